"""ML2's options: its drivers, the networks' MTUs, and each type driver's ranges."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

DEFAULT_OPTS = [
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68,
               help="MTU of the underlying physical network: a VLAN or flat network's "
                    "MTU, and a tunnel network's before its encapsulation overhead."),
]

ML2_OPTS = [
    cfg.ListOpt("type_drivers", default=["vxlan"],
                help="Network types the server can create."),
    cfg.ListOpt("tenant_network_types", default=["vxlan"],
                help="Types for networks created without provider attributes, "
                     "in order of preference."),
    cfg.ListOpt("mechanism_drivers", default=["openvswitch"],
                help="Mechanism drivers, in the order binding asks them: openvswitch, "
                     "l2population (agents hear of remote ports: fdb entries), or import "
                     "paths of MechanismDriver classes."),
    cfg.IntOpt("path_mtu", default=0, min=0,
               help="MTU of the path tunnels take between hosts, when smaller than "
                    "global_physnet_mtu; 0: global_physnet_mtu. A tunnel network's MTU is "
                    "this less the encapsulation overhead (vxlan 50, gre 42 bytes)."),
    cfg.ListOpt("extension_drivers", default=[],
                help="ML2 extension drivers (import paths of ExtensionDriver classes): each "
                     "adds its extension's attributes to networks, subnets or ports."),
]


VXLAN_OPTS = [
    cfg.ListOpt("vni_ranges", default=["1:1000"],
                help="VNIs for tenant networks, as 'min:max' entries."),
]


GRE_OPTS = [
    cfg.ListOpt("tunnel_id_ranges", default=["1:1000"],
                help="GRE keys for tenant networks, as 'min:max' entries."),
]


VLAN_OPTS = [
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="'physnet:min:max' entries give VLANs for tenant networks; a "
                     "bare 'physnet' allows provider networks on it only."),
]


FLAT_OPTS = [
    cfg.ListOpt("flat_networks", default=["*"],
                help="Physical networks that may carry a flat network; '*' allows any."),
]


OPTIONS: dict[str, Sequence[cfg.Opt]] = {
    "DEFAULT": DEFAULT_OPTS, "ml2": ML2_OPTS, "ml2_type_vxlan": VXLAN_OPTS,
    "ml2_type_gre": GRE_OPTS, "ml2_type_vlan": VLAN_OPTS, "ml2_type_flat": FLAT_OPTS}
