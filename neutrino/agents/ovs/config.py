"""Options of the OVS agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.agents import options
from neutrino.agents.ovs import extensions

POLLING_OPTS = [
    cfg.FloatOpt("polling_interval", default=0.5, min=0.01,
                 help="Longest time between two scans of br-int's ports; a "
                      "change on br-int wakes the agent at once."),
]

OVS_OPTS = [
    cfg.StrOpt("ovs_rundir", required=True,
               help="Run directory of this host's ovs-vswitchd (bridge .mgmt sockets)."),
    cfg.StrOpt("tunnel_bridge", default="br-tun"),
    cfg.StrOpt("datapath_type", default="netdev", choices=["netdev", "system"]),
    cfg.HostAddressOpt("local_ip", help="This host's tunnel endpoint address."),
    cfg.DictOpt("bridge_mappings", default={},
                help="physical_network:bridge pairs, e.g. physnet1:br-phys."),
    cfg.BoolOpt("use_veth_interconnection", default=False,
                help="Join br-int to br-tun and to physical bridges with veth pairs "
                     "instead of patch ports."),
]

AGENT_OPTS = POLLING_OPTS + [
    cfg.ListOpt("tunnel_types", default=["vxlan"],
                help="Tunnel types this agent builds (vxlan, gre); empty for none."),
    cfg.BoolOpt("l2_population", default=False),
    cfg.BoolOpt("arp_responder", default=False),
    cfg.ListOpt("extensions", default=[],
                help="L2 agent extensions, called on every port wired, updated and gone: "
                     "entry points of the neutrino.agent.l2.extensions group, or import "
                     "paths of AgentExtension classes."),
]


SECURITYGROUP_OPTS = [
    cfg.StrOpt("firewall_driver", default="openvswitch", choices=["noop", "openvswitch"],
               help="How ports' security groups are enforced: conntrack flows on br-int "
                    "(openvswitch), or not at all (noop)."),
]


def load(argv: Sequence[str], check_only: bool = False) -> cfg.ConfigOpts:
    return options.load(argv, "neutrino-openvswitch-agent", {
        "ovs": options.PLUGGING_OPTS + OVS_OPTS, "agent": AGENT_OPTS,
        "securitygroup": SECURITYGROUP_OPTS}, check_only,
        more=lambda conf: extensions.options_of(conf.agent.extensions))
