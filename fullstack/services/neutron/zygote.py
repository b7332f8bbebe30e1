"""Fork Neutron's agents from one process that imported them once: ``python zygote.py SOCKET``.

Each of Neutron's agents spends about two of its three or four CPU seconds
of start-up importing Neutron; on two cores, with a server of three
processes starting too, that is most of the wait.  This process imports
the agents' code once, then listens on the unix socket SOCKET.  A request
(one JSON line) asks for an agent; the child it forks makes a session of
its own, enters the host's network namespace, takes the agent's log as its
output and the environment it was given, and runs the agent's main as
``agent_main.py`` would.  The zygote reaps its children and answers for
their exit codes, so the harness can treat each like a process it started.

Requests and replies, one JSON object each way per connection::

    {"op": "spawn", "argv": [SCRIPT, ARG...], "env": {...}, "netns": PATH,
     "log": PATH, "cwd": PATH, "main": null}    -> {"pid": N}
    (SCRIPT one of agent_main.MAINS, or any name with "main": "pkg.module:function":
    an agent beyond the three, which the zygote imports on the first request
    for it, so its later forks find it loaded; {"error": TEXT} comes back when
    that import fails, and the zygote serves on)
    {"op": "status", "pid": N}                  -> {"returncode": int or null}
"""

import ctypes
import importlib
import importlib.util
import json
import os
import signal
import socket
import sys
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

CLONE_NEWNET = 0x40000000
# What the agents import once they run, besides their mains.
PRELOAD = (
    "neutron.plugins.ml2.drivers.openvswitch.agent.openflow.native.ovs_oskenapp",
    "neutron.agent.linux.dhcp",
    "neutron.agent.linux.interface",
)

_exit_codes: dict[int, int] = {}


def _load_agent_main():
    spec = importlib.util.spec_from_file_location(
        "fullstack_agent_main", os.path.join(_HERE, "agent_main.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reap(_signum, _frame):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _exit_codes[pid] = os.waitstatus_to_exitcode(status)


def _setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({path})")
    finally:
        os.close(fd)


def _child(agent_main, request, main):
    """Become the agent (never returns)."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        os.setsid()
        if request.get("netns"):
            _setns(request["netns"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or "/")
        script, *args = request["argv"]
        sys.argv = [script, *args]
        # Named after the zygote when it was imported here.
        from neutron.agent.linux import iptables_manager
        iptables_manager.binary_name = iptables_manager.get_binary_name()
        prefix = os.environ.get("FULLSTACK_NS_PREFIX", "")
        if prefix:
            agent_main.prefix_agent_namespaces(prefix)
        result = main()
        code = result if isinstance(result, int) else 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve(server, agent_main):
    while True:
        conn, _ = server.accept()
        with conn:
            line = conn.makefile("r").readline()
            if not line:
                continue   # a readiness probe: connected, said nothing
            request = json.loads(line)
            reply: dict[str, int | str | None]
            if request["op"] == "spawn":
                try:
                    # Imported here, once: the next fork of it finds it loaded.
                    main = agent_main.resolve_main(request["argv"][0], request.get("main"))
                except BaseException as error:   # said to the caller, who raises it
                    reply = {"error": f"{type(error).__name__}: {error}"}
                else:
                    pid = os.fork()
                    if pid == 0:
                        conn.close()
                        server.close()
                        _child(agent_main, request, main)
                    reply = {"pid": pid}
            else:
                # A child the caller saw end may not have been reaped yet:
                # its SIGCHLD can still be pending here.
                _reap(None, None)
                reply = {"returncode": _exit_codes.get(request["pid"])}
            conn.sendall((json.dumps(reply) + "\n").encode())


def main():
    socket_path = sys.argv[1]
    sys.argv[0] = "neutron-agent-zygote"
    agent_main = _load_agent_main()
    agent_main.run_privileged_in_process()
    for module in (*agent_main.MAINS.values(), *PRELOAD):
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(16)
    print(f"zygote ready on {socket_path}", flush=True)
    _serve(server, agent_main)


if __name__ == "__main__":
    main()
