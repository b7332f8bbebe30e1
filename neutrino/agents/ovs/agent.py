"""The OVS agent: wires machine ports on br-int and tunnels on br-tun.

One thread does all the wiring (``run``); RPC notifications and OVSDB
changes only queue work and wake it, so no two threads ever program the
bridges at once.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time

from neutrino.agents import heartbeat
from neutrino.agents.ovs import (
    bridges,
    firewall,
    l2pop,
    local_vlans,
    physical_flows,
    tunnel_flows,
)
from neutrino.common import ovs, rpc, shutdown, wire

LOG = logging.getLogger(__name__)

BINARY = "neutrino-openvswitch-agent"
RETRY_INTERVAL = 1.0
# Neutron's tag for a port that must pass nothing (admin_state_up false):
# no network uses it, and a drop flow stops what the port sends.
DEAD_VLAN = 4095


class OvsAgent:
    def __init__(self, conf):
        self.conf = conf
        self.host = conf.host
        self.agent_id = f"ovs-agent-{self.host}"
        self.local_ip = conf.ovs.local_ip
        self.tunnel_types = [t for t in conf.agent.tunnel_types if t]
        self.bridge_mappings = dict(conf.ovs.bridge_mappings)
        self.l2_population = conf.agent.l2_population
        self.arp_responder = conf.agent.arp_responder and self.l2_population
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.ovsdb = ovs.connect(conf.ovs.ovsdb_connection, on_change=self._on_ovsdb_change)
        self.bridges = bridges.Bridges(self.ovsdb, conf, cookie=random.getrandbits(62) | 1)
        self.vlans = local_vlans.LocalVlanMap()
        # (tunnel type, remote ip) -> (port name, ofport)
        self.tunnels: dict[tuple[str, str], tuple[str, int]] = {}
        self.fdb = l2pop.ForwardingDatabase(self.local_ip)
        self.wired: dict[str, dict] = {}                # port name -> vif + network
        self.retry: set[str] = set()                    # port names to try again
        self.refilter: set[str] = set()                 # wired ports to filter anew
        self.firewall = (firewall.OvsFirewall(self.bridges.br_int)
                         if conf.securitygroup.firewall_driver == "openvswitch" else None)
        self.plugin = rpc.RpcClient(conf.transport_url, wire.PLUGIN_TOPIC)
        # Deleted ports and networks need no event: their VIFs leave br-int.
        events = ["port_update", "network_update", "tunnel_update"]
        if self.l2_population:
            events += ["fdb_add", "fdb_remove"]
        if self.firewall is not None:
            events += ["security_groups_rule_updated", "security_groups_member_updated"]
        self.listener = rpc.NotificationListener(conf.transport_url, self.Notifications(self),
                                                 exchange=wire.NOTIFY_EXCHANGE, events=events)

    # -- notifications (listener thread): queue and wake ------------------
    class Notifications:
        def __init__(self, agent: OvsAgent):
            self._agent = agent

        def port_update(self, port: dict) -> None:
            self._agent.queue_work("port_update", port["id"])

        def network_update(self, network: dict) -> None:
            self._agent.queue_work("network_update", network)

        def tunnel_update(self, tunnel_ip: str, tunnel_type: str, host: str) -> None:
            self._agent.queue_work("tunnel_update", (tunnel_ip, tunnel_type))

        def fdb_add(self, fdb_entries: dict) -> None:
            self._agent.queue_work("fdb_add", fdb_entries)

        def fdb_remove(self, fdb_entries: dict) -> None:
            self._agent.queue_work("fdb_remove", fdb_entries)

        def security_groups_rule_updated(self, security_groups: list[str]) -> None:
            self._agent.queue_work("sg_rules", security_groups)

        def security_groups_member_updated(self, security_groups: list[str]) -> None:
            self._agent.queue_work("sg_members", security_groups)

    def queue_work(self, kind: str, item: object) -> None:
        self.work.put((kind, item))
        self.wake.set()

    def _on_ovsdb_change(self, table: str, event: str) -> None:
        if table in ("Interface", "Port"):
            self.wake.set()

    # -- main loop ---------------------------------------------------------
    def run(self) -> None:
        self.bridges.setup(bool(self.tunnel_types), self.bridge_mappings)
        self._recover_previous_state()
        self.listener.start()
        heartbeat.start(self.plugin, self.conf.agent.report_interval, self.stopping, self._state)
        self._sync_tunnels()
        first_pass = True
        while not self.stopping.is_set():
            self.wake.clear()
            self._drain_work()
            self._scan_ports()
            self._refresh_filters()
            if first_pass and not self.retry:
                # Everything is re-installed with our cookie: drop the flows
                # of a previous run only now, so traffic never has a gap.
                self.bridges.delete_stale_flows()
                first_pass = False
            timeout = (RETRY_INTERVAL if self.retry or self.refilter
                       else self.conf.agent.polling_interval)
            self.wake.wait(timeout)
        LOG.info("agent stopping")

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        # A call waiting on an absent server would hold the exit for its
        # whole timeout.
        self.plugin.abort_calls_soon("the agent is stopping")

    def close(self) -> None:
        shutdown.close_all([self.listener.stop, self.plugin.close,
                            lambda: ovs.disconnect(self.ovsdb)])

    def _recover_previous_state(self) -> None:
        self.tunnels = self.bridges.existing_tunnels()
        for vif in self.bridges.vif_ports().values():
            net_id = vif["other_config"].get("net_uuid")
            if net_id and vif["tag"]:
                self.vlans.reserve(net_id, vif["tag"])

    def _drain_work(self) -> None:
        while True:
            try:
                kind, item = self.work.get_nowait()
            except queue.Empty:
                return
            if kind == "tunnel_update":
                tunnel_ip, tunnel_type = item
                self._add_tunnel(tunnel_ip, tunnel_type)
            elif kind == "fdb_add":
                for network_id in self.fdb.add(item):
                    self._apply_fdb(network_id)
            elif kind == "fdb_remove":
                for network_id, gone in self.fdb.remove(item).items():
                    self._forget_fdb(network_id, gone)
            elif kind == "network_update":
                self._move_segment(item)
            elif kind == "sg_rules" and self.firewall is not None:
                self.refilter |= self.firewall.ports_of_groups(item)
            elif kind == "sg_members" and self.firewall is not None:
                self.refilter |= self.firewall.ports_naming_groups(item)
            elif kind == "port_update":
                # Re-wired by the next scan with fresh details.
                for name, port in list(self.wired.items()):
                    if port["iface_id"] == item:
                        self._unwire(name, report=False)

    # -- tunnels -------------------------------------------------------------
    def _sync_tunnels(self) -> None:
        for tunnel_type in self.tunnel_types:
            while not self.stopping.is_set():
                try:
                    reply = self.plugin.call("tunnel_sync", tunnel_ip=self.local_ip,
                                             tunnel_type=tunnel_type, host=self.host,
                                             timeout=self.conf.rpc_response_timeout)
                    break
                except rpc.RpcError as exc:
                    LOG.warning("tunnel_sync failed (%s); retrying", exc)
                    self.stopping.wait(RETRY_INTERVAL)
            else:
                return
            for tunnel in reply["tunnels"]:
                self._add_tunnel(tunnel["ip_address"], tunnel_type)

    def _add_tunnel(self, remote_ip: str, tunnel_type: str) -> int | None:
        """Ensure a tunnel port to ``remote_ip``; return its OpenFlow port."""
        if remote_ip == self.local_ip or tunnel_type not in self.tunnel_types:
            return None
        key = (tunnel_type, remote_ip)
        if key not in self.tunnels:
            self.tunnels[key] = self.bridges.add_tunnel(tunnel_type, remote_ip)
            for net in self.vlans.networks.values():
                if net.network_type == tunnel_type:
                    self._install_flood(net)
        return self.tunnels[key][1]

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

    # -- l2 population -----------------------------------------------------------
    def _apply_fdb(self, network_id: str) -> None:
        net = self.vlans.get(network_id)
        if net is None or net.network_type not in self.tunnel_types:
            return
        flows = []
        for tunnel_ip, mac, ip in self.fdb.unicast(network_id):
            ofport = self._add_tunnel(tunnel_ip, net.network_type)
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

    # -- ports -----------------------------------------------------------------
    def _scan_ports(self) -> None:
        current = self.bridges.vif_ports()
        for name in set(self.wired) - set(current):
            self._unwire(name)
        self.retry &= set(current)
        for name, vif in current.items():
            known = self.wired.get(name)
            if known and known["iface_id"] == vif["iface_id"] and known["ofport"] == vif["ofport"]:
                continue
            if known:
                self._unwire(name)
            self._wire(name, vif)

    def _wire(self, name: str, vif: dict) -> None:
        try:
            details = self.plugin.call("get_device_details", device=vif["iface_id"],
                                       agent_id=self.agent_id, host=self.host,
                                       timeout=self.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("no details for port %s (%s); will retry", vif["iface_id"], exc)
            self.retry.add(name)
            return
        if "network_id" not in details:
            LOG.info("port %s is not known to the server yet; will retry", vif["iface_id"])
            self.retry.add(name)
            return
        if not self._can_serve(details):
            LOG.error("port %s: network type %s (physical network %s) is not served by "
                      "this agent", vif["iface_id"], details.get("network_type"),
                      details.get("physical_network"))
            self.retry.discard(name)
            self.wired[name] = dict(vif, network_id=None)
            return
        if not details.get("admin_state_up", True):
            self._wire_dead(name, vif)
            return
        net = self.vlans.get(details["network_id"])
        if net is None:
            net = self.vlans.provision(details["network_id"], details["network_type"],
                                       details["segmentation_id"],
                                       details.get("physical_network"))
            self._install_network_flows(net)
        # Filtered before it gets its VLAN: it never passes unfiltered traffic.
        if self.firewall is not None and name not in self._filter({name: (vif, net.lvid)}):
            if not net.ports:
                self.vlans.reclaim(net.network_id)
                self._remove_network_flows(net)
            self.retry.add(name)
            return
        net.ports.add(name)
        self.bridges.set_port_vlan(name, net.lvid, {
            "net_uuid": net.network_id, "network_type": net.network_type,
            "segmentation_id": str(net.segmentation_id)})
        self.wired[name] = dict(vif, network_id=net.network_id)
        self.retry.discard(name)
        self._report_device("update_device_up", vif["iface_id"])
        LOG.info("wired port %s (%s) on VLAN %d for network %s", vif["iface_id"], name,
                 net.lvid, net.network_id)

    def _wire_dead(self, name: str, vif: dict) -> None:
        """A port set down through the API: wired to nothing, reported DOWN."""
        self.bridges.br_int.add_flows([dead_port_flow(vif["ofport"])])
        self.bridges.set_port_vlan(name, DEAD_VLAN, {})
        self.wired[name] = dict(vif, network_id=None, dead=True)
        self.retry.discard(name)
        self._report_device("update_device_down", vif["iface_id"])
        LOG.info("port %s (%s) is administratively down: dropping its traffic",
                 vif["iface_id"], name)

    def _unwire(self, name: str, report: bool = True) -> None:
        port = self.wired.pop(name, None)
        if port is None:
            return
        if self.firewall is not None:
            self.firewall.remove_port(name)
            self.refilter.discard(name)
        if port.get("dead"):
            self.bridges.br_int.delete_flows([dead_port_match(port["ofport"])], strict=True)
        if report:
            self._report_device("update_device_down", port["iface_id"])
        net = self.vlans.get(port["network_id"]) if port["network_id"] else None
        if net is None:
            return
        net.ports.discard(name)
        if not net.ports:
            self.vlans.reclaim(net.network_id)
            self._remove_network_flows(net)
            LOG.info("network %s has no port here any more; VLAN %d freed",
                     net.network_id, net.lvid)

    # -- security groups ---------------------------------------------------------
    def _filter(self, ports: dict[str, tuple[dict, int]]) -> set[str]:
        """Program the firewall of ``ports`` (name -> (vif, local VLAN)) with one call
        to the server; the names of those it programmed."""
        assert self.firewall is not None
        devices = [vif["iface_id"] for vif, _ in ports.values()]
        started = time.monotonic()
        try:
            info = self.plugin.call("security_group_info_for_devices", devices=devices,
                                    timeout=self.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("no security groups for %s (%s); will retry", ", ".join(devices), exc)
            return set()
        done = set()
        for name, (vif, lvid) in ports.items():
            device = info["devices"].get(vif["iface_id"])
            if device is None:
                LOG.info("port %s is not known to the server; not filtering it yet",
                         vif["iface_id"])
                continue
            port_info = firewall.port_info(device, info, vif["ofport"], lvid)
            self.firewall.set_port(name, port_info, device["security_groups"])
            done.add(name)
            LOG.info("port %s filtered: %s (%.0f ms since asking the server)", vif["iface_id"],
                     firewall.describe(port_info), (time.monotonic() - started) * 1000)
        return done

    def _refresh_filters(self) -> None:
        """Filter anew the wired ports whose groups or remote groups changed."""
        if not self.refilter or self.firewall is None:
            return
        ports = {}
        for name in self.refilter:
            port = self.wired.get(name)
            net = self.vlans.get(port["network_id"]) if port and port["network_id"] else None
            if port is not None and net is not None:
                ports[name] = (port, net.lvid)
        if not ports or self._filter(ports):
            # A port the server no longer knows is about to leave br-int.
            self.refilter.clear()

    def _move_segment(self, network: dict) -> None:
        """A VLAN network wired here got a new segmentation id: translate to that one."""
        net = self.vlans.get(network["id"])
        seg_id = network.get("provider:segmentation_id")
        if net is None or net.network_type != "vlan" or seg_id == net.segmentation_id:
            return
        # Old flows first: the physical bridge's match is on the local VLAN,
        # which the new flows share.
        self._remove_network_flows(net)
        old, net.segmentation_id = net.segmentation_id, seg_id
        self._install_network_flows(net)
        for name in net.ports:
            self.bridges.set_port_vlan(name, net.lvid, {
                "net_uuid": net.network_id, "network_type": net.network_type,
                "segmentation_id": str(seg_id)})
        LOG.info("network %s moved from VLAN %s to VLAN %s on the wire", net.network_id,
                 old, seg_id)

    def _can_serve(self, details: dict) -> bool:
        network_type = details.get("network_type")
        if network_type in self.tunnel_types:
            return True
        return (network_type in ("vlan", "flat")
                and details.get("physical_network") in self.bridges.physical)

    def _install_network_flows(self, net: local_vlans.LocalNetwork) -> None:
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

    def _remove_network_flows(self, net: local_vlans.LocalNetwork) -> None:
        if net.network_type in self.tunnel_types:
            self.bridges.br_tun.delete_flows(
                tunnel_flows.network_matches(net.network_type, net.segmentation_id or 0,
                                             net.lvid))
            return
        phys = self.bridges.physical[net.physical_network or ""]
        self.bridges.br_int.delete_flows([physical_flows.int_network_match(
            phys.int_ofport, net.network_type, net.segmentation_id)])
        phys.ofctl.delete_flows([physical_flows.phys_network_match(phys.phys_ofport, net.lvid)])

    def _report_device(self, method: str, device: str) -> None:
        try:
            self.plugin.call(method, device=device, agent_id=self.agent_id, host=self.host,
                             timeout=self.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("%s for %s failed: %s", method, device, exc)

    # -- heartbeats --------------------------------------------------------------
    def _state(self, start_flag: bool) -> dict:
        return {
            "binary": BINARY, "host": self.host, "agent_type": wire.OVS_AGENT_TYPE,
            "topic": "N/A", "start_flag": start_flag,
            "configurations": {
                "tunnel_types": self.tunnel_types, "tunneling_ip": self.local_ip,
                "bridge_mappings": self.bridge_mappings,
                "l2_population": self.l2_population,
                "arp_responder_enabled": self.arp_responder,
                "devices": len(self.wired), "datapath_type": self.conf.ovs.datapath_type,
            },
        }


def dead_port_match(ofport: int) -> str:
    return f"table=0,priority=2,in_port={ofport}"


def dead_port_flow(ofport: int) -> str:
    return f"{dead_port_match(ofport)},actions=drop"
