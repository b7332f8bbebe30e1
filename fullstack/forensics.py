"""What a failing test leaves for its reader: a dump of the whole deployment.

Written while the deployment still runs (from testtools' on-exception hook,
before any cleanup), into ``<log dir>/forensics/``: per namespace its
addresses, routes and neighbours; per OVS instance ``ovs-vsctl show`` and
every bridge's flows; the API's view of networks, subnets, ports and
agents; the tail of every process log.  The API view and the log tails are
also returned, to be attached to the test result.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from fullstack.resources import namespace as namespace_module
from fullstack.resources import runner

if TYPE_CHECKING:
    from fullstack.environment import Environment

COMMAND_TIMEOUT = 10
LOG_TAIL_LINES = 30


def _run(cmd: list[str], namespace: str | None = None, env: dict | None = None) -> str:
    try:
        proc = runner.execute(cmd, namespace=namespace, check=False, timeout=COMMAND_TIMEOUT,
                              env=env)
        return proc.stdout + proc.stderr
    except Exception as exc:  # a dump must never hide the test's own failure
        return f"({' '.join(cmd)} failed: {exc})"


def namespace_state(namespace: str) -> str:
    parts = []
    for cmd in (["ip", "-d", "addr"], ["ip", "route"], ["ip", "neigh"]):
        parts.append(f"$ {' '.join(cmd)}\n{_run(cmd, namespace)}")
    return "\n".join(parts)


def ovs_state(instance) -> str:
    env = dict(os.environ, **instance.env)
    parts = [f"$ ovs-vsctl show\n{_run(['ovs-vsctl', '--db=' + instance.db_socket, 'show'])}"]
    bridges = _run(["ovs-vsctl", "--db=" + instance.db_socket, "list-br"]).split()
    for bridge in bridges:
        parts.append(f"$ ovs-ofctl dump-flows {bridge}\n"
                     f"{_run(['ovs-ofctl', 'dump-flows', bridge], env=env)}")
    return "\n".join(parts)


def regions_view(environment: Environment) -> str:
    """The central server's pods, routings and jobs (what went where, and how)."""
    client = environment.server.client
    view: dict[str, object] = {}
    for collection in ("pods", "routings", "jobs"):
        try:
            view[collection] = client.request("GET", f"/v1.0/{collection}")[collection]
        except Exception as exc:
            view[collection] = f"(unavailable: {exc})"
    jobs = view["jobs"]
    lines = [f"job {job['id']} {job['type']} of {job['resource_id']}: {job['status']} "
             f"after {job['attempts']} attempt(s) {job['last_error']}".rstrip()
             for job in (jobs if isinstance(jobs, list) else [])]
    return "\n".join(lines) + "\n\n" + json.dumps(view, indent=1, default=str)


def api_view(environment: Environment, client=None) -> str:
    """What the server (``client``'s, else the environment's) lists, agents and
    ports first, in a line each."""
    client = client or environment.server.client
    view: dict[str, object] = {}
    for resource in ("network", "subnet", "port", "agent"):
        try:
            view[resource + "s"] = client.list_of(resource)
        except Exception as exc:
            view[resource + "s"] = f"(unavailable: {exc})"
    lines = []
    agents, ports = view["agents"], view["ports"]
    for agent in agents if isinstance(agents, list) else []:
        lines.append(f"agent {agent['agent_type']} on {agent['host']}: "
                     f"{'alive' if agent['alive'] else 'DEAD'}")
    for port in ports if isinstance(ports, list) else []:
        ips = ",".join(f["ip_address"] for f in port["fixed_ips"])
        lines.append(f"port {port['id']} {port['device_owner'] or '-'} {ips} "
                     f"{port['status']} host={port.get('binding:host_id') or '-'} "
                     f"vif={port.get('binding:vif_type')}")
    return "\n".join(lines) + "\n\n" + json.dumps(view, indent=1, default=str)


def process_tails(environment: Environment) -> str:
    parts = []
    for proc in environment.processes():
        state = "running" if proc.is_running() else f"exited ({proc.returncode})"
        parts.append(f"==== {proc.name} (pid {proc.pid}, {state})\n"
                     f"{proc.log_tail(LOG_TAIL_LINES)}")
    return "\n".join(parts)


def dump(environment: Environment) -> dict[str, str]:
    """Write the dump; return the parts worth attaching to the test result."""
    ctx = environment.ctx
    folder = os.path.join(ctx.log_dir, "forensics")
    os.makedirs(folder, exist_ok=True)

    def write(name: str, text: str) -> None:
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)

    for name in namespace_module.starting_with(ctx.prefix + "-"):
        write(f"netns-{name}.txt", namespace_state(name))
    write("ovs-central.txt", ovs_state(environment.central_ovs))
    for host in environment.hosts:
        write(f"ovs-{host.hostname}.txt", ovs_state(host.ovs))
    summary = {"forensics-api": api_view(environment)}
    if environment.regions:
        summary["forensics-regions"] = regions_view(environment)
        for region in environment.regions:
            summary[f"forensics-api-{region.name}"] = api_view(environment, region.client)
    summary["forensics-processes"] = process_tails(environment)
    for name, text in summary.items():
        write(f"{name}.txt", text)
    return summary
