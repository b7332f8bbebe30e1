"""br-int and br-tun of one host: creation, patch ports, tunnel ports, tags."""

from __future__ import annotations

import logging
import time

import netaddr

from neutrino.agents.ovs import ofctl, tunnel_flows

LOG = logging.getLogger(__name__)

PATCH_INT = "patch-int"   # on br-tun, towards br-int
PATCH_TUN = "patch-tun"   # on br-int, towards br-tun
OFPORT_TIMEOUT = 30.0


def tunnel_port_name(tunnel_type: str, remote_ip: str) -> str:
    """``vxlan-f0010203``: type and the remote address in hex (<= 15 chars)."""
    return f"{tunnel_type}-{int(netaddr.IPAddress(remote_ip)):08x}"


class Bridges:
    def __init__(self, ovsdb, conf, cookie: int):
        self.ovsdb = ovsdb
        self.int_name = conf.ovs.integration_bridge
        self.tun_name = conf.ovs.tunnel_bridge
        self.datapath_type = conf.ovs.datapath_type
        self.local_ip = conf.ovs.local_ip
        self.br_int = ofctl.OfctlBridge(self.int_name, conf.ovs.ovs_rundir, cookie)
        self.br_tun = ofctl.OfctlBridge(self.tun_name, conf.ovs.ovs_rundir, cookie)
        self.patch_int_ofport = 0

    def setup(self) -> None:
        """Create (or adopt) both bridges and the patch pair between them.

        ``secure`` fail mode: without flows the bridges drop, and flows stay
        when the agent is gone, so traffic survives an agent restart.
        """
        with self.ovsdb.transaction(check_error=True) as txn:
            for name in (self.int_name, self.tun_name):
                txn.add(self.ovsdb.add_br(name, datapath_type=self.datapath_type))
                txn.add(self.ovsdb.db_set("Bridge", name, ("fail_mode", "secure")))
            txn.add(self.ovsdb.add_port(self.int_name, PATCH_TUN))
            txn.add(self.ovsdb.db_set("Interface", PATCH_TUN, ("type", "patch"),
                                      ("options", {"peer": PATCH_INT})))
            txn.add(self.ovsdb.add_port(self.tun_name, PATCH_INT))
            txn.add(self.ovsdb.db_set("Interface", PATCH_INT, ("type", "patch"),
                                      ("options", {"peer": PATCH_TUN})))
        self.patch_int_ofport = self.wait_ofport(PATCH_INT)
        self.br_int.add_flows(["table=0,priority=0,actions=NORMAL"])
        self.br_tun.add_flows(tunnel_flows.base_flows(self.patch_int_ofport))

    def wait_ofport(self, name: str) -> int:
        deadline = time.monotonic() + OFPORT_TIMEOUT
        while True:
            ofport = self.ovsdb.db_get("Interface", name, "ofport").execute(check_error=True)
            if isinstance(ofport, list):
                ofport = ofport[0] if ofport else None
            if ofport and ofport > 0:
                return ofport
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} got no OpenFlow port in {OFPORT_TIMEOUT} s")
            time.sleep(0.02)

    def add_tunnel(self, tunnel_type: str, remote_ip: str) -> tuple[str, int]:
        name = tunnel_port_name(tunnel_type, remote_ip)
        options = {"remote_ip": remote_ip, "local_ip": self.local_ip,
                   "in_key": "flow", "out_key": "flow"}
        with self.ovsdb.transaction(check_error=True) as txn:
            txn.add(self.ovsdb.add_port(self.tun_name, name))
            txn.add(self.ovsdb.db_set("Interface", name, ("type", tunnel_type),
                                      ("options", options)))
        ofport = self.wait_ofport(name)
        self.br_tun.add_flows(tunnel_flows.tunnel_port_flows(ofport))
        LOG.info("tunnel %s to %s is OpenFlow port %d", name, remote_ip, ofport)
        return name, ofport

    def existing_tunnels(self) -> dict[str, tuple[str, int]]:
        """Tunnel ports already on br-tun (from a previous run), by remote IP."""
        found = {}
        for name in self.ovsdb.list_ports(self.tun_name).execute(check_error=True):
            if name == PATCH_INT:
                continue
            options = self.ovsdb.db_get("Interface", name, "options").execute(check_error=True)
            if options.get("remote_ip"):
                found[options["remote_ip"]] = (name, self.wait_ofport(name))
        return found

    def vif_ports(self) -> dict[str, dict]:
        """br-int's machine ports, by port name: iface-id, ofport, tag, other_config."""
        names = [n for n in self.ovsdb.list_ports(self.int_name).execute(check_error=True)
                 if n != PATCH_TUN]
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
            ofport = iface["ofport"][0] if isinstance(iface["ofport"], list) and iface["ofport"] \
                else iface["ofport"]
            if not iface_id or not isinstance(ofport, int) or ofport <= 0:
                continue
            port = port_by_name.get(iface["name"], {})
            tag = port.get("tag")
            vifs[iface["name"]] = {
                "iface_id": iface_id, "ofport": ofport,
                "tag": tag[0] if isinstance(tag, list) and tag else tag or None,
                "other_config": port.get("other_config", {}),
            }
        return vifs

    def set_port_vlan(self, port_name: str, lvid: int, other_config: dict) -> None:
        self.ovsdb.db_set("Port", port_name, ("tag", lvid),
                          ("other_config", other_config)).execute(check_error=True)
