"""Neutron's server side: three processes, one config file each (all alike).

- the API, ``neutron.wsgi.api:application`` under uWSGI (Neutron 29 has no
  neutron-server); the app finds its config through OS_NEUTRON_CONFIG_DIR
  and OS_NEUTRON_CONFIG_FILES, which must be in uWSGI's environment when
  it starts;
- ``neutron-rpc-server``, which agents call on q-plugin;
- ``neutron-periodic-workers``: agent liveness, rescheduling from dead agents.

Each is forked by the server's zygote, which imported Neutron once for the
test runner (server_main.py says how each runs; forking.py, which zygote).

Ready means the API answers and the RPC server consumes its queues.  The
harness declares those queues first, so agents may start while the server
loads: their first calls wait in the queues instead of timing out.
"""

from __future__ import annotations

import os
import signal

from fullstack import process, wait
from fullstack.resources import client, daemon
from fullstack.services import forking
from fullstack.services.base import ServerSpec
from fullstack.services.neutron import configs

# The queues agents call the RPC server on (L2 and DHCP, state reports, L3),
# on Neutron's exchange.
RPC_QUEUES = ("q-plugin", "q-reports-plugin", "q-l3-plugin")
# The zygotes' role files (see zygote.py): what each forks, and how.
ROLES = {"agent": os.path.join(os.path.dirname(__file__), "agent_main.py"),
         "server": os.path.join(os.path.dirname(__file__), "server_main.py")}
CONTROL_EXCHANGE = "neutron"
READY_TIMEOUT = 120.0
# What a graceful stop takes: about 6 s idle, more under load.
GRACEFUL_STOP_TIMEOUT = 30.0


class NeutronServer(process.Server):
    early_agents = True

    def __init__(self, spec: ServerSpec):
        super().__init__()
        self.ctx = ctx = spec.ctx
        self.url = f"http://{spec.bind_host}:{spec.bind_port}"
        self.client = client.ApiClient(self.url)
        if spec.broker is None:
            raise ValueError("Neutron's server needs the test's vhost (ServerSpec.broker)")
        self._broker = spec.broker
        # The zygotes (forking.py), chosen at set-up: the agents' forks the
        # agents, the server's the three processes below.
        self.zygote: forking.Zygote | None = None
        self.server_zygote: forking.Zygote | None = None
        self._own_zygotes: list[forking.Zygote] = []
        sections = configs.server(spec, os.path.join(ctx.run_dir, "neutron-server"))
        # The plugins and drivers every test's server runs, as the harness
        # configures them: loaded once into the zygote.  Those a test's
        # overlay adds load in its own processes only: some register
        # callbacks as they are imported, which must not reach the next test.
        self._entry_points = configs.server_entry_points(sections)
        api_config = process.config_path(ctx, "neutron-api")
        self.api = forking.ForkedProcess(
            None, ctx, "neutron-api",
            # uWSGI's arguments (server_main.py runs it).
            ["neutron-api", "--http-socket", f"{spec.bind_host}:{spec.bind_port}",
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
        self.rpc = self._neutron_process(ctx, "neutron-rpc-server", sections)
        self.periodic = self._neutron_process(ctx, "neutron-periodic-workers", sections)

    @staticmethod
    def _neutron_process(ctx, name: str, sections: process.Sections) -> forking.ForkedProcess:
        return forking.ForkedProcess(
            None, ctx, name, [name, "--config-file", process.config_path(ctx, name)],
            sections, wait_at_setup=False, stop_signal=signal.SIGINT)

    def _setUp(self) -> None:
        # Declared before the RPC server (and as it declares them): agents
        # started meanwhile find their first calls queued, not dropped.
        for queue in RPC_QUEUES:
            self._broker.declare_topic_queue(CONTROL_EXCHANGE, queue)
        # The agents' first: it imports while the server's processes load.
        self.zygote = self._zygote("agent")
        self.server_zygote = self._zygote("server")
        for proc in self._server_processes():
            proc.zygote = self.server_zygote
            proc.entry_points = self._entry_points
            self.useFixture(proc)

    def _zygote(self, role: str) -> forking.Zygote:
        zygote, owned = forking.zygote(self.ctx, f"neutron-{role}-zygote", ROLES[role])
        if owned:
            self._own_zygotes.append(self.useFixture(zygote))
        return zygote

    def _server_processes(self) -> list[forking.ForkedProcess]:
        return [self.api, self.rpc, self.periodic]

    def processes(self) -> list[daemon.ProcessFixture]:
        """The run's own: the zygotes kept for the test runner are not."""
        return [*self._own_zygotes, *self._server_processes()]

    @property
    def pid(self) -> int | None:
        return self.api.pid

    @property
    def started_at(self) -> float:  # type: ignore[override]
        return self.api.started_at

    def _ready(self) -> bool:
        """The API answers and the RPC server consumes every queue (each noted ready
        as it is first seen so; the periodic workers say nothing)."""
        if process.answers(self.url):
            self.api.mark_ready()
        if all(self._broker.queue_consumers(queue) > 0 for queue in RPC_QUEUES):
            self.rpc.mark_ready()
        return self.api.ready_after is not None and self.rpc.ready_after is not None

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
        the new one.  The zygotes (and the agents forked) stay."""
        self.api.stop()
        for proc in (self.rpc, self.periodic):
            proc.stop(kill_signal=signal.SIGTERM, timeout=GRACEFUL_STOP_TIMEOUT)
        for proc in (self.api, self.rpc, self.periodic):
            proc.start(wait=False)
        self.wait_until_ready()
