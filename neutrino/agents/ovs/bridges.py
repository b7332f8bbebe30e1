"""br-int, br-tun and the physical bridges of one host: creation and wiring."""

from __future__ import annotations

import dataclasses
import logging
import time

import netaddr

from neutrino.agents.ovs import ofctl, physical_flows, tunnel_flows

LOG = logging.getLogger(__name__)

OFPORT_TIMEOUT = 30.0
SWITCH_TABLE = physical_flows.SWITCH_TABLE


def tunnel_port_name(tunnel_type: str, remote_ip: str) -> str:
    """``vxlan-f0010203``: type and the remote address in hex (<= 15 chars)."""
    return f"{tunnel_type}-{int(netaddr.IPAddress(remote_ip)):08x}"


@dataclasses.dataclass
class PhysicalBridge:
    physnet: str
    name: str
    ofctl: ofctl.OfctlBridge
    int_ofport: int    # br-int's end of the link to this bridge
    phys_ofport: int   # this bridge's end of it


class Bridges:
    def __init__(self, ovsdb, conf, cookie: int):
        self.ovsdb = ovsdb
        self.int_name = conf.ovs.integration_bridge
        self.tun_name = conf.ovs.tunnel_bridge
        self.datapath_type = conf.ovs.datapath_type
        self.local_ip = conf.ovs.local_ip
        self.use_veth = conf.ovs.use_veth_interconnection
        self.rundir = conf.ovs.ovs_rundir
        self.cookie = cookie
        self.arp_responder = conf.agent.arp_responder and conf.agent.l2_population
        self.br_int = ofctl.OfctlBridge(self.int_name, self.rundir, cookie)
        self.br_tun = ofctl.OfctlBridge(self.tun_name, self.rundir, cookie)
        self.patch_int_ofport = 0
        self.physical: dict[str, PhysicalBridge] = {}
        self.made: set[str] = set()   # bridges this run created: no earlier flows

    def setup(self, tunnelling: bool, bridge_mappings: dict[str, str]) -> None:
        """Create (or adopt) br-int, br-tun and the links to them.

        ``secure`` fail mode: without flows the bridges drop, and flows stay
        when the agent is gone, so traffic survives an agent restart.
        """
        self._add_bridge(self.int_name, secure=True)
        # Table 0 classifies, table 60 switches (and hands a filtered port's
        # traffic to its firewall tables first).  br-int's flows go in at the
        # end, in one ovs-ofctl call: it drops until then (secure).
        int_flows = [f"table=0,priority=0,actions=resubmit(,{SWITCH_TABLE})",
                     f"table={SWITCH_TABLE},priority=0,actions=NORMAL"]
        if tunnelling:
            self._add_bridge(self.tun_name, secure=True)
            _, self.patch_int_ofport = self.interconnect(self.int_name, self.tun_name, "tun")
            self.br_tun.add_flows(
                tunnel_flows.base_flows(self.patch_int_ofport, self.arp_responder))
        for physnet, name in bridge_mappings.items():
            self._add_bridge(name, secure=False)
            int_ofport, phys_ofport = self.interconnect(self.int_name, name, physnet)
            bridge = PhysicalBridge(physnet, name, ofctl.OfctlBridge(name, self.rundir,
                                                                     self.cookie),
                                    int_ofport, phys_ofport)
            int_flows += physical_flows.int_base_flows(int_ofport)
            bridge.ofctl.add_flows(physical_flows.phys_base_flows(phys_ofport))
            self.physical[physnet] = bridge
        self.br_int.add_flows(int_flows)

    def delete_stale_flows(self) -> None:
        """Drop flows an earlier run of the agent left (any other cookie) on the
        bridges it found (one it made has none: no ``ovs-ofctl`` to ask)."""
        bridges = [self.br_int, *([self.br_tun] if self.patch_int_ofport else []),
                   *(bridge.ofctl for bridge in self.physical.values())]
        for bridge in bridges:
            if bridge.name not in self.made:
                bridge.delete_stale_flows()

    def _add_bridge(self, name: str, secure: bool) -> None:
        if not self.ovsdb.br_exists(name).execute(check_error=True):
            self.made.add(name)
        with self.ovsdb.transaction(check_error=True) as txn:
            txn.add(self.ovsdb.add_br(name, datapath_type=self.datapath_type))
            if secure:
                txn.add(self.ovsdb.db_set("Bridge", name, ("fail_mode", "secure")))

    def interconnect(self, int_bridge: str, other: str, label: str) -> tuple[int, int]:
        """Join br-int and ``other`` by patch ports or a veth pair.

        Returns the OpenFlow port numbers on br-int and on ``other``.
        """
        if label == "tun" and not self.use_veth:
            int_port, other_port = "patch-tun", "patch-int"
        else:
            int_port, other_port = f"int-{other}"[:15], f"phy-{other}"[:15]
        if self.use_veth:
            self._ensure_veth(int_port, other_port)
            self._add_ports([(int_bridge, int_port, {}), (other, other_port, {})])
        else:
            self._add_ports([
                (int_bridge, int_port, {"type": "patch", "options": {"peer": other_port}}),
                (other, other_port, {"type": "patch", "options": {"peer": int_port}}),
            ])
        return self.wait_ofport(int_port), self.wait_ofport(other_port)

    def _add_ports(self, ports: list[tuple[str, str, dict]]) -> None:
        with self.ovsdb.transaction(check_error=True) as txn:
            for bridge, port, iface in ports:
                txn.add(self.ovsdb.add_port(bridge, port))
                if iface:
                    txn.add(self.ovsdb.db_set("Interface", port, *iface.items()))

    def _ensure_veth(self, name: str, peer: str) -> None:
        # Imported here: pyroute2 costs about 0.15 s of CPU at every agent's
        # start, and only veth interconnection needs it.
        from neutrino.common import ip

        ip.ensure_veth(name, peer, peer_namespace=None)   # both up, TX offload off

    def wait_ofport(self, name: str) -> int:
        deadline = time.monotonic() + OFPORT_TIMEOUT
        while True:
            ofport = _single(self.ovsdb.db_get("Interface", name, "ofport").execute(
                check_error=True))
            if ofport and ofport > 0:
                return ofport
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} got no OpenFlow port in {OFPORT_TIMEOUT} s")
            time.sleep(0.02)

    def add_tunnels(self, tunnel_type: str,
                    remote_ips: list[str]) -> dict[str, tuple[str, int]]:
        """Tunnel ports to ``remote_ips``, by remote IP: (port name, OpenFlow port).

        All in one OVSDB transaction and one ``ovs-ofctl`` call: an agent
        joining N hosts meets N-1 tunnels at once, and each transaction waits
        for vswitchd to reconfigure.
        """
        names = {ip: tunnel_port_name(tunnel_type, ip) for ip in remote_ips}
        if not names:
            return {}
        self._add_ports([
            (self.tun_name, name, {"type": tunnel_type, "options": {
                "remote_ip": ip, "local_ip": self.local_ip,
                "in_key": "flow", "out_key": "flow"}})
            for ip, name in names.items()])
        added = {ip: (name, self.wait_ofport(name)) for ip, name in names.items()}
        self.br_tun.add_flows([flow for _, ofport in added.values()
                               for flow in tunnel_flows.tunnel_port_flows(tunnel_type, ofport)])
        for ip, (name, ofport) in added.items():
            LOG.info("tunnel %s to %s is OpenFlow port %d", name, ip, ofport)
        return added

    def existing_tunnels(self) -> dict[tuple[str, str], tuple[str, int]]:
        """Adopt tunnel ports of a previous run, by (type, remote IP)."""
        found: dict[tuple[str, str], tuple[str, int]] = {}
        if not self.ovsdb.br_exists(self.tun_name).execute(check_error=True):
            return found
        for name in self.ovsdb.list_ports(self.tun_name).execute(check_error=True):
            row = self.ovsdb.db_list("Interface", [name], columns=["type", "options"],
                                     if_exists=True).execute(check_error=True)
            if row and row[0]["options"].get("remote_ip"):
                key = (row[0]["type"], row[0]["options"]["remote_ip"])
                found[key] = (name, self.wait_ofport(name))
        # Re-install their flows under this run's cookie before stale ones go.
        self.br_tun.add_flows([flow for (kind, _), (_, ofport) in found.items()
                               for flow in tunnel_flows.tunnel_port_flows(kind, ofport)])
        return found

    def vif_ports(self) -> dict[str, dict]:
        """br-int's machine ports, by port name: iface-id, ofport, tag, other_config."""
        names = self.ovsdb.list_ports(self.int_name).execute(check_error=True)
        if not names:
            return {}
        ifaces = self.ovsdb.db_list("Interface", names, columns=["name", "external_ids", "ofport"],
                                    if_exists=True).execute(check_error=True)
        ports = self.ovsdb.db_list("Port", names, columns=["name", "tag", "other_config"],
                                   if_exists=True).execute(check_error=True)
        port_by_name = {p["name"]: p for p in ports}
        vifs = {}
        for iface in ifaces:
            iface_id = iface["external_ids"].get("iface-id")
            ofport = _single(iface["ofport"])
            if not iface_id or not isinstance(ofport, int) or ofport <= 0:
                continue
            port = port_by_name.get(iface["name"], {})
            vifs[iface["name"]] = {
                "iface_id": iface_id, "ofport": ofport, "tag": _single(port.get("tag")),
                "other_config": port.get("other_config", {}),
            }
        return vifs

    def set_port_vlan(self, port_name: str, lvid: int, other_config: dict) -> None:
        self.ovsdb.db_set("Port", port_name, ("tag", lvid),
                          ("other_config", other_config)).execute(check_error=True)


def _single(value):
    """OVSDB optional columns come back as [] or [x] from db_list."""
    if isinstance(value, list):
        return value[0] if value else None
    return value
