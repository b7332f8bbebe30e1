"""Run one of Neutron's agents as a simulated host needs it: ``python agent_main.py SCRIPT ARGS``.

SCRIPT is the console script it stands for (neutron-openvswitch-agent,
neutron-dhcp-agent, neutron-l3-agent), or ``NAME=package.module:function``
for any other agent: NAME is what it is called, the function its main.
The harness runs this file by its path, in Neutron's Python environment,
inside the host's namespace; it imports nothing of the harness.  Before the agent's own ``main`` it:

- names the process like the console script: Neutron derives names from
  ``sys.argv[0]`` when it is imported (the L3 agent's iptables chains);
- runs privileged functions in the agent itself (the harness is root
  already), so no privsep helper daemons start: oslo.privsep's public
  switch ``PrivContext.set_client_mode(False)`` on every context;
- tells pyroute2 to reset SIGTERM in the helpers it forks: without it a
  helper stopped with SIGTERM reaches the DHCP and L3 agents' worker (the
  helper inherits cotyledon's wake-up pipe) as the worker's own SIGTERM,
  and the worker restarts over and over;
- puts ``FULLSTACK_NS_PREFIX`` in front of the names of the namespaces the
  DHCP and L3 agents create (``qdhcp-``, ``qrouter-``, ``snat-``,
  ``fip-``), so hosts on one machine do not share them, and teaches the L3
  agent to recognise its own names again.
"""

import importlib.util
import os
import sys

# Run by path, this file's folder is sys.path[0]; Neutron must not see the
# harness's modules there.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

MAINS = {
    "neutron-openvswitch-agent": "neutron.cmd.agents.ovs_neutron_agent",
    "neutron-dhcp-agent": "neutron.cmd.agents.dhcp",
    "neutron-l3-agent": "neutron.cmd.agents.l3",
}
# Any other agent, by the import path of its main (HostExtension agents,
# Neutron's metadata or BGP agents).
OTHER_MAINS = True
# What the agents import once they run, besides their mains: the zygote
# (zygote.py) imports them all before its first fork.
PRELOAD = (
    *MAINS.values(),
    "neutron.plugins.ml2.drivers.openvswitch.agent.openflow.native.ovs_oskenapp",
    "neutron.agent.linux.dhcp",
    "neutron.agent.linux.interface",
)


def run_privileged_in_process():
    import neutron.privileged
    import pyroute2.config
    from oslo_privsep import priv_context

    pyroute2.config.disable_mp_signal = True
    for value in vars(neutron.privileged).values():
        if isinstance(value, priv_context.PrivContext):
            value.set_client_mode(False)


def prefix_agent_namespaces(prefix):
    from neutron.agent.l3 import dvr_fip_ns, dvr_snat_ns, namespace_manager, namespaces
    from neutron.agent.linux import dhcp

    dhcp.NS_PREFIX = prefix + dhcp.NS_PREFIX
    namespaces.NS_PREFIX = prefix + namespaces.NS_PREFIX
    dvr_snat_ns.SNAT_NS_PREFIX = prefix + dvr_snat_ns.SNAT_NS_PREFIX
    dvr_fip_ns.FIP_NS_PREFIX = prefix + dvr_fip_ns.FIP_NS_PREFIX
    # Built from the prefixes when the module was imported: build it again.
    managed = {namespaces.NS_PREFIX: namespaces.RouterNamespace,
               dvr_snat_ns.SNAT_NS_PREFIX: dvr_snat_ns.SnatNamespace,
               dvr_fip_ns.FIP_NS_PREFIX: dvr_fip_ns.FipNamespace}
    namespace_manager.NamespaceManager.ns_prefix_to_class_map = managed

    # Stock parsing cuts a name at its first '-', which the host prefix has:
    # a router namespace would not be recognised (nor cleaned) as one.
    def prefix_of(ns_name):
        return next((known for known in managed if ns_name.startswith(known)), None)

    def id_of(ns_name):
        known = prefix_of(ns_name)
        return ns_name[len(known):] if known else None

    namespaces.get_prefix_from_ns_name = prefix_of
    namespaces.get_id_from_ns_name = id_of


def prepare_zygote():
    """Once, in the zygote, before it imports PRELOAD."""
    run_privileged_in_process()


def prepare_child():
    """In each forked agent, its argv and environment set, before its main."""
    from neutron.agent.linux import iptables_manager

    # Named after the zygote when it was imported there.
    iptables_manager.binary_name = iptables_manager.get_binary_name()
    prefix = os.environ.get("FULLSTACK_NS_PREFIX", "")
    if prefix:
        prefix_agent_namespaces(prefix)


def _zygote():
    """zygote.py, beside this file's folder, by path: its main resolver."""
    spec = importlib.util.spec_from_file_location(
        "fullstack_zygote", os.path.join(os.path.dirname(_HERE), "zygote.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    script, _, main = sys.argv.pop(1).partition("=")
    try:
        function = _zygote().resolve_main(sys.modules[__name__], script, main or None)
    except (LookupError, ImportError, AttributeError) as error:
        sys.exit(f"agent_main.py: {error}")
    sys.argv[0] = script
    run_privileged_in_process()
    prefix = os.environ.get("FULLSTACK_NS_PREFIX", "")
    if prefix:
        prefix_agent_namespaces(prefix)
    return function()


if __name__ == "__main__":
    sys.exit(main())
