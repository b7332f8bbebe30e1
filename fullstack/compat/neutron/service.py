"""Neutron deployed as its own fullstack suite expects it.

Two differences from ``fullstack.services.neutron``, both because the
suite's modules compute names the agents make:

- The L3 and DHCP agents run Neutron's own test mains (shipped in its
  wheel): each appends its ``test_namespace_suffix`` to the namespaces it
  creates (``qrouter-<id>@<suffix>``, ``qdhcp-<id><suffix>``), as the suite
  computes them.  The suffix is the host's name.
- Every host's agents put the run's prefix in front of those names (the
  harness's usual prefix is per host): the suite computes them with one
  ``NS_PREFIX``, which the layer sets to the same prefix in the test
  process (``fullstack.compat.neutron.base``).  The suffix keeps hosts apart.
"""

from __future__ import annotations

from typing import ClassVar

from fullstack.resources import namespace, records
from fullstack.services.base import AgentSpec
from fullstack.services.neutron.service import NeutronService


def namespace_prefix(run_prefix: str) -> str:
    """What every agent of a run puts in front of its namespaces' names."""
    return f"{run_prefix}-"


class UpstreamNeutron(NeutronService):
    agent_mains: ClassVar[dict[str, str]] = {
        "l3": "neutron.tests.common.agents.l3_agent:main",
        "dhcp": "neutron.tests.fullstack.agents.dhcp_agent:main",
    }

    @staticmethod
    def _agent_env(spec: AgentSpec) -> dict[str, str]:
        env = NeutronService._agent_env(spec)
        env["FULLSTACK_NS_PREFIX"] = namespace_prefix(spec.ctx.prefix)
        return env

    def remove_agent_leftovers(self, spec: AgentSpec) -> None:
        # The host's own namespaces: the run's prefix, the host's suffix.
        prefix = namespace_prefix(spec.ctx.prefix)
        for name in namespace.starting_with(prefix):
            if name.endswith((f"@{spec.hostname}", f"-{spec.hostname}")):
                for proc in namespace.processes_in(name):
                    records.kill(proc)
                namespace.delete(name)
        super().remove_agent_leftovers(spec)
