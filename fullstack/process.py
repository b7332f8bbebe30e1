"""Fixtures for the processes of the deployed service: server and agents.

The harness starts them by command line (``python -m neutrino...``) with a
config file it writes, exactly as an operator would; it never imports them.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from fullstack import context
from fullstack.resources import client, config, daemon


class ServiceProcess(daemon.ProcessFixture):
    """A neutrino process started with one generated config file."""

    module = ""
    binary = ""

    def __init__(self, ctx: context.RunContext, name: str,
                 sections: dict[str, dict[str, object]], namespace: str | None = None,
                 **kwargs):
        self.config_path = os.path.join(ctx.log_dir, f"{name}.ini")
        self.sections = sections
        cmd = [sys.executable, "-m", self.module, "--config-file", self.config_path]
        # neutrino's agents create namespaces: they must share the machine's
        # mount namespace (see runner.in_namespace).
        super().__init__(name, cmd, ctx.log_dir, ctx.settings.state_dir, ctx.prefix,
                         namespace=namespace, private_mounts=False, **kwargs)

    def _setUp(self) -> None:
        self.useFixture(config.ConfigFile(os.path.dirname(self.config_path),
                                          os.path.basename(self.config_path), self.sections))
        super()._setUp()


class ServerProcess(ServiceProcess):
    """The API server; ready when its version document answers."""

    module = "neutrino.server"

    def __init__(self, ctx: context.RunContext, host: str, port: int,
                 sections: dict[str, dict[str, object]]):
        self.url = f"http://{host}:{port}"
        self.client = client.ApiClient(self.url)
        # Launched early and awaited only before the first agent starts: the
        # hosts are wired while it loads.
        super().__init__(ctx, "neutrino-server", sections, ready=self._answers,
                         wait_at_setup=False)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False


class OvsAgentProcess(ServiceProcess):
    module = "neutrino.agents.ovs"
    binary = "neutrino-openvswitch-agent"   # as the agent reports itself


class L3AgentProcess(ServiceProcess):
    module = "neutrino.agents.l3"
    binary = "neutrino-l3-agent"


class DhcpAgentProcess(ServiceProcess):
    module = "neutrino.agents.dhcp"
    binary = "neutrino-dhcp-agent"

