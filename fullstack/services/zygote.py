"""Fork a service's processes from one that imported them: ``zygote.py SOCKET ROLE [PARENT]``.

Each of Neutron's processes spends one or two of its three or four CPU
seconds of start-up importing Neutron, and each of neutrino's half of its
start-up; on two cores that is most of the wait.  This process loads ROLE
(the path of a role file: what it forks, and how; it names no harness
module: MAINS, by script, each a function or an import path; OTHER_MAINS,
whether a request may name any other main; PRELOAD; prepare_zygote and
prepare_child), imports the role's PRELOAD once, then listens on the unix socket
SOCKET.  A request (one JSON line)
asks for a process; the child it forks makes a session of its own, enters
the host's network namespace if it has one, takes its log as its output and
the environment it was given, and runs the role's main for it.  The zygote
reaps its children and answers for their exit codes, so the harness can
treat each like a process it started.  With PARENT (a pid) it ends when
that process has gone: it was kept for that test runner alone.

Requests and replies, one JSON object each way per connection::

    {"op": "spawn", "argv": [SCRIPT, ARG...], "env": {...}, "netns": PATH,
     "log": PATH, "cwd": PATH, "main": null,
     "entry_points": [[GROUP, NAME], ...]}      -> {"pid": N}
    (SCRIPT one of the role's MAINS, or for agents any name with
    "main": "pkg.module:function": one beyond the three, which its child
    imports, so that nothing it does as it is imported reaches a later
    fork; the entry points named are loaded here first, once (the
    plugins and drivers the harness always gives the server);
    {"error": TEXT} comes back when one cannot be found, and the zygote
    serves on)
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
PR_SET_NAME = 15
# How often a kept zygote looks whether its test runner is still there.
PARENT_CHECK_INTERVAL = 1.0

_exit_codes: dict[int, int] = {}
_loaded_entry_points: set[tuple[str, str]] = set()


def _load_role(path):
    name = "fullstack_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_entry_points(pairs):
    from importlib import metadata

    for group, name in pairs:
        if (group, name) in _loaded_entry_points:
            continue
        found = metadata.entry_points(group=group, name=name)
        if not found:
            raise LookupError(f"no entry point {name!r} in group {group!r}")
        for entry_point in found:
            entry_point.load()
        _loaded_entry_points.add((group, name))


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


def _name_process(argv):
    """Show the fork in ps as what it runs, not as this zygote: its whole command
    line where setproctitle is installed (Neutron's environment has it), else
    its name (the 15 characters the kernel keeps)."""
    try:
        import setproctitle
    except ImportError:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, os.path.basename(argv[0]).encode()[:15], 0, 0, 0)
    else:
        setproctitle.setproctitle(" ".join(argv))


def resolve_main(role, script, main=None):
    """The main function of ``script``: its entry in the role's MAINS (a
    function, or an import path ``package.module[:function]``, ``main`` by
    default), or import path ``main`` where the role forks OTHER_MAINS."""
    if main is not None and not getattr(role, "OTHER_MAINS", False):
        raise LookupError(f"this zygote forks {', '.join(role.MAINS)}, not {script!r} "
                          f"with main {main!r}")
    path = main or role.MAINS.get(script)
    if path is None:
        raise LookupError(f"{script!r} is not one of {', '.join(role.MAINS)} and has no "
                          "import path of its main")
    if callable(path):
        return path
    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module), function or "main")


def _check_main(role, script, main):
    """Whether the child will find its main, without importing it here: a main
    beyond the role's own is imported by its child alone, so that what it
    does as it is imported stays out of every later fork."""
    if main is None or not getattr(role, "OTHER_MAINS", False):
        resolve_main(role, script, main)
        return
    module = main.partition(":")[0]
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"no module named {module!r}")


def _child(role, request):
    """Become the process asked for (never returns)."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        os.setsid()
        # Before the environment is replaced: setproctitle finds the memory it
        # rewrites through it.
        _name_process(request["argv"])
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
        role.prepare_child()
        result = resolve_main(role, script, request.get("main"))()
        code = result if isinstance(result, int) else 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve(server, role, parent):
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            if parent and os.getppid() != parent:
                return   # its test runner has gone
            continue
        with conn:
            line = conn.makefile("r").readline()
            if not line:
                continue   # a readiness probe: connected, said nothing
            request = json.loads(line)
            reply: dict[str, int | str | None]
            if request["op"] == "spawn":
                try:
                    # Imported here, once: the next fork finds it loaded.
                    _load_entry_points(request.get("entry_points") or ())
                    _check_main(role, request["argv"][0], request.get("main"))
                except BaseException as error:   # said to the caller, who raises it
                    reply = {"error": f"{type(error).__name__}: {error}"}
                else:
                    pid = os.fork()
                    if pid == 0:
                        conn.close()
                        server.close()
                        _child(role, request)
                    reply = {"pid": pid}
            else:
                # A child the caller saw end may not have been reaped yet:
                # its SIGCHLD can still be pending here.
                _reap(None, None)
                reply = {"returncode": _exit_codes.get(request["pid"])}
            conn.sendall((json.dumps(reply) + "\n").encode())


def main():
    socket_path, role_path = sys.argv[1:3]
    parent = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    sys.argv[0] = "zygote-" + os.path.splitext(os.path.basename(role_path))[0]
    role = _load_role(role_path)
    role.prepare_zygote()
    for module in role.PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(16)
    if parent:
        server.settimeout(PARENT_CHECK_INTERVAL)
    print(f"zygote for {os.path.basename(role_path)} ready on {socket_path}", flush=True)
    _serve(server, role, parent)


if __name__ == "__main__":
    main()
