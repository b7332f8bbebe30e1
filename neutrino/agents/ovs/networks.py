"""The networks a host's ports are on, as flows: tunnels, flooding, l2pop entries, VLANs.

The OVS agent provisions a network's local VLAN when its first port here
is wired and reclaims it with the last; in between, this keeps br-tun's
tunnels and flooding (or l2pop's unicast entries) and the physical
bridges' VLAN translation in step.  Called from the agent's one wiring
thread only.
"""

from __future__ import annotations

import logging
from typing import Any

from neutrino.agents.ovs import bridges, l2pop, local_vlans, physical_flows, tunnel_flows

LOG = logging.getLogger(__name__)


class NetworkFlows:
    def __init__(self, bridge_set: bridges.Bridges, local_ip: str, tunnel_types: list[str],
                 l2_population: bool, arp_responder: bool):
        self.bridges = bridge_set
        self.local_ip = local_ip
        self.tunnel_types = tunnel_types
        self.l2_population = l2_population
        self.arp_responder = arp_responder and l2_population
        self.vlans = local_vlans.LocalVlanMap()
        # (tunnel type, remote ip) -> (port name, ofport)
        self.tunnels: dict[tuple[str, str], tuple[str, int]] = {}
        self.fdb = l2pop.ForwardingDatabase(local_ip)

    def recover(self) -> None:
        """A restarted agent keeps the tunnels and local VLANs it finds."""
        self.tunnels = self.bridges.existing_tunnels()
        for vif in self.bridges.vif_ports().values():
            net_id = vif["other_config"].get("net_uuid")
            if net_id and vif["tag"]:
                self.vlans.reserve(net_id, vif["tag"])

    def can_serve(self, network_type: str | None, physical_network: str | None) -> bool:
        if network_type in self.tunnel_types:
            return True
        return network_type in ("vlan", "flat") and physical_network in self.bridges.physical

    def provision(self, network_id: str, network_type: str, segmentation_id: int | None,
                  physical_network: str | None) -> local_vlans.LocalNetwork:
        """The network's local VLAN, its flows installed when it is new here."""
        net = self.vlans.get(network_id)
        if net is None:
            net = self.vlans.provision(network_id, network_type, segmentation_id,
                                       physical_network)
            self._install(net)
        return net

    def release_if_unused(self, net: local_vlans.LocalNetwork) -> None:
        if not net.ports:
            self.vlans.reclaim(net.network_id)
            self._remove(net)
            LOG.info("network %s has no port here any more; VLAN %d freed",
                     net.network_id, net.lvid)

    # -- tunnels ---------------------------------------------------------------
    def add_tunnel(self, remote_ip: str, tunnel_type: str) -> int | None:
        """Ensure a tunnel port to ``remote_ip``; return its OpenFlow port."""
        self.add_tunnels([remote_ip], tunnel_type)
        return self.tunnels[tunnel_type, remote_ip][1] if (
            tunnel_type, remote_ip) in self.tunnels else None

    def add_tunnels(self, remote_ips: list[str], tunnel_type: str) -> None:
        """Ensure tunnel ports to ``remote_ips`` (not to this host), all at once."""
        if tunnel_type not in self.tunnel_types:
            return
        new = sorted({ip for ip in remote_ips
                      if ip != self.local_ip and (tunnel_type, ip) not in self.tunnels})
        if not new:
            return
        for ip, port in self.bridges.add_tunnels(tunnel_type, new).items():
            self.tunnels[tunnel_type, ip] = port
        for net in self.vlans.networks.values():
            if net.network_type == tunnel_type:
                self._install_flood(net)

    def _install_flood(self, net: local_vlans.LocalNetwork) -> None:
        """Flood a network to every tunnel of its type (with l2pop: only where needed)."""
        wanted = self.fdb.flood_hosts(net.network_id) if self.l2_population else None
        ofports = [ofport for (kind, ip), (_, ofport) in self.tunnels.items()
                   if kind == net.network_type and (wanted is None or ip in wanted)]
        flows = tunnel_flows.network_flows(net.network_type, net.segmentation_id or 0,
                                           net.lvid, ofports)
        self.bridges.br_tun.add_flows(flows)
        if not ofports:
            self.bridges.br_tun.delete_flows([tunnel_flows.flood_match(net.lvid)])

    # -- l2 population -------------------------------------------------------------
    def fdb_add(self, entries: dict[str, Any]) -> None:
        for network_id in self.fdb.add(entries):
            self._apply_fdb(network_id)

    def fdb_remove(self, entries: dict[str, Any]) -> None:
        for network_id, gone in self.fdb.remove(entries).items():
            self._forget_fdb(network_id, gone)

    def _apply_fdb(self, network_id: str) -> None:
        net = self.vlans.get(network_id)
        if net is None or net.network_type not in self.tunnel_types:
            return
        flows = []
        for tunnel_ip, mac, ip in self.fdb.unicast(network_id):
            ofport = self.add_tunnel(tunnel_ip, net.network_type)
            if ofport is None:
                continue
            flows.append(tunnel_flows.unicast_flow(net.lvid, mac, net.segmentation_id or 0,
                                                   ofport))
            if self.arp_responder:
                flows.append(tunnel_flows.arp_responder_flow(net.lvid, mac, ip))
        self.bridges.br_tun.add_flows(flows)
        self._install_flood(net)

    def _forget_fdb(self, network_id: str, gone: set[tuple[str, str, str]]) -> None:
        net = self.vlans.get(network_id)
        if net is None or net.network_type not in self.tunnel_types:
            return
        matches = []
        for _, mac, ip in gone:
            if (mac, ip) == l2pop.FLOODING_ENTRY:
                continue
            matches.append(tunnel_flows.unicast_match(net.lvid, mac))
            if self.arp_responder:
                matches.append(tunnel_flows.arp_responder_match(net.lvid, ip))
        self.bridges.br_tun.delete_flows(matches)
        self._install_flood(net)

    # -- a network's own flows ---------------------------------------------------
    def move_segment(self, network: dict[str, Any]) -> None:
        """A VLAN network wired here got a new segmentation id: translate to that one."""
        net = self.vlans.get(network["id"])
        seg_id = network.get("provider:segmentation_id")
        if net is None or net.network_type != "vlan" or seg_id == net.segmentation_id:
            return
        # Old flows first: the physical bridge's match is on the local VLAN,
        # which the new flows share.
        self._remove(net)
        old, net.segmentation_id = net.segmentation_id, seg_id
        self._install(net)
        for name in net.ports:
            self.bridges.set_port_vlan(name, net.lvid, port_vlan_config(net))
        LOG.info("network %s moved from VLAN %s to VLAN %s on the wire", net.network_id,
                 old, seg_id)

    def _install(self, net: local_vlans.LocalNetwork) -> None:
        if net.network_type in self.tunnel_types:
            # With l2pop, applying the fdb installs the flood flow as well.
            if self.l2_population:
                self._apply_fdb(net.network_id)
            else:
                self._install_flood(net)
            return
        phys = self.bridges.physical[net.physical_network or ""]
        self.bridges.br_int.add_flows(physical_flows.int_network_flows(
            phys.int_ofport, net.network_type, net.segmentation_id, net.lvid))
        phys.ofctl.add_flows(physical_flows.phys_network_flows(
            phys.phys_ofport, net.network_type, net.segmentation_id, net.lvid))

    def _remove(self, net: local_vlans.LocalNetwork) -> None:
        if net.network_type in self.tunnel_types:
            self.bridges.br_tun.delete_flows(
                tunnel_flows.network_matches(net.network_type, net.segmentation_id or 0,
                                             net.lvid))
            return
        phys = self.bridges.physical[net.physical_network or ""]
        self.bridges.br_int.delete_flows([physical_flows.int_network_match(
            phys.int_ofport, net.network_type, net.segmentation_id)])
        phys.ofctl.delete_flows([physical_flows.phys_network_match(phys.phys_ofport, net.lvid)])


def port_vlan_config(net: local_vlans.LocalNetwork) -> dict[str, str]:
    """What br-int's port records of its network (a restarted agent reads it back)."""
    return {"net_uuid": net.network_id, "network_type": net.network_type,
            "segmentation_id": str(net.segmentation_id)}
