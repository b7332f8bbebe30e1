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


def remove_host_namespaces(run_prefix: str, hostname: str) -> None:
    """A host's DHCP and router namespaces (the run's prefix, the host's
    suffix), with what still runs in them."""
    for name in namespace.starting_with(namespace_prefix(run_prefix)):
        if name.endswith((f"@{hostname}", f"-{hostname}")):
            for proc in namespace.processes_in(name):
                records.kill(proc)
            namespace.delete(name)


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
        remove_host_namespaces(spec.ctx.prefix, spec.hostname)
        super().remove_agent_leftovers(spec)
