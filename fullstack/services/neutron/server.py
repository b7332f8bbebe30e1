"""Neutron's server side: three processes, one config file each (all alike).

- the API, ``neutron.wsgi.api:application`` under uWSGI (Neutron 29 has no
  neutron-server); the app finds its config through OS_NEUTRON_CONFIG_DIR
  and OS_NEUTRON_CONFIG_FILES, which must be in uWSGI's environment when
  it starts;
- ``neutron-rpc-server``, which agents call on q-plugin;
- ``neutron-periodic-workers``: agent liveness, rescheduling from dead agents.

Ready means the API answers and the RPC server consumes its queues.  The
harness declares those queues first, so agents may start while the server
loads: their first calls wait in the queues instead of timing out.
"""

from __future__ import annotations

import os
import signal
import sys

from fullstack import process, wait
from fullstack.resources import client, daemon
from fullstack.services.base import ServerSpec
from fullstack.services.neutron import configs, forking, installation

# The queues agents call the RPC server on (L2 and DHCP, state reports, L3),
# on Neutron's exchange.
RPC_QUEUES = ("q-plugin", "q-reports-plugin", "q-l3-plugin")
CONTROL_EXCHANGE = "neutron"
READY_TIMEOUT = 120.0
# What a graceful stop takes: about 6 s idle, more under load.
GRACEFUL_STOP_TIMEOUT = 30.0
RPC_MAIN = os.path.join(os.path.dirname(__file__), "rpc_main.py")


class NeutronServer(process.Server):
    early_agents = True

    def __init__(self, spec: ServerSpec):
        super().__init__()
        ctx = spec.ctx
        self.url = f"http://{spec.bind_host}:{spec.bind_port}"
        self.client = client.ApiClient(self.url)
        if spec.broker is None:
            raise ValueError("Neutron's server needs the test's vhost (ServerSpec.broker)")
        self._broker = spec.broker
        # Forks the agents (see zygote.py); it imports while the server loads.
        self.zygote = forking.Zygote(ctx)
        sections = configs.server(spec, os.path.join(ctx.run_dir, "neutron-server"))
        api_config = process.config_path(ctx, "neutron-api")
        self.api = process.ServiceProcess(
            ctx, "neutron-api",
            [installation.script("uwsgi"), "--http-socket", f"{spec.bind_host}:{spec.bind_port}",
             "--master", "--processes", "1", "--threads", "1", "--enable-threads",
             "--lazy-apps", "--need-app", "--die-on-term", "--buffer-size", "65535",
             # Its HTTP socket does not keep connections alive; clients that
             # pool them (openstacksdk) must be told to open a new one.
             "--add-header", "Connection: close",
             "--module", "neutron.wsgi.api:application"],
            sections,
            env={"OS_NEUTRON_CONFIG_DIR": os.path.dirname(api_config),
                 "OS_NEUTRON_CONFIG_FILES": os.path.basename(api_config)},
            # It holds no state, and uWSGI's own shutdown waits 2 s for its worker.
            wait_at_setup=False, stop_signal=signal.SIGKILL)
        # SIGINT: both stop at once; SIGTERM drains (about 6 s), see restart().
        # The RPC server through rpc_main.py: Neutron's, its policy made first.
        self.rpc = self._neutron_process(ctx, "neutron-rpc-server", sections,
                                         [sys.executable, RPC_MAIN])
        self.periodic = self._neutron_process(ctx, "neutron-periodic-workers", sections)

    @staticmethod
    def _neutron_process(ctx, name: str, sections: process.Sections,
                         command: list[str] | None = None) -> process.ServiceProcess:
        return process.ServiceProcess(
            ctx, name, (command or [installation.script(name)]) + [
                "--config-file", process.config_path(ctx, name)],
            sections, wait_at_setup=False, stop_signal=signal.SIGINT)

    def _setUp(self) -> None:
        # Declared before the RPC server (and as it declares them): agents
        # started meanwhile find their first calls queued, not dropped.
        for queue in RPC_QUEUES:
            self._broker.declare_topic_queue(CONTROL_EXCHANGE, queue)
        for proc in self.processes():
            self.useFixture(proc)

    def processes(self) -> list[daemon.ProcessFixture]:
        return [self.zygote, self.api, self.rpc, self.periodic]

    @property
    def pid(self) -> int | None:
        return self.api.pid

    @property
    def started_at(self) -> float:  # type: ignore[override]
        return self.api.started_at

    def _ready(self) -> bool:
        return process.answers(self.url) and all(
            self._broker.queue_consumers(queue) > 0 for queue in RPC_QUEUES)

    def wait_until_ready(self) -> None:
        def ready_or_dead() -> bool:
            self.check_alive()
            return self._ready()

        wait.wait_until_true(
            ready_or_dead, timeout=READY_TIMEOUT, sleep=0.2,
            exception=lambda: f"Neutron's server not ready after {READY_TIMEOUT} s (API "
                              f"answering: {process.answers(self.url)}; RPC queues consumed: "
                              f"{[q for q in RPC_QUEUES if self._broker.queue_consumers(q)]}); "
                              f"logs: {', '.join(p.log_path for p in self.processes())}")

    def is_running(self) -> bool:
        return all(proc.is_running() for proc in self.processes())

    def check_alive(self) -> None:
        for proc in self.processes():
            proc.check_alive()

    def restart(self) -> None:
        """As an operator restarts it: SIGTERM lets the RPC server answer most calls
        it has taken off the queues (SIGINT drops them all, and each agent whose
        call was dropped waits out its rpc_response_timeout, then backs off
        before it tries again).  What it has not taken waits in the queues for
        the new one.  The zygote (and the agents it forked) stay."""
        self.api.stop()
        for proc in (self.rpc, self.periodic):
            proc.stop(kill_signal=signal.SIGTERM, timeout=GRACEFUL_STOP_TIMEOUT)
        for proc in (self.api, self.rpc, self.periodic):
            proc.start(wait=False)
        self.wait_until_ready()
