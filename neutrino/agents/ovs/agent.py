"""The OVS agent: wires machine ports on br-int and tunnels on br-tun.

One thread does all the wiring (``run``); RPC notifications and OVSDB
changes only queue calls and wake it, so no two threads ever program the
bridges at once.  The networks' own flows are ``networks.NetworkFlows``';
security groups the firewall's (one that does nothing for ``noop``);
L2 agent extensions hear of every port wired, updated and gone.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable

from neutrino.agents import heartbeat
from neutrino.agents.ovs import bridges, extensions, firewall, networks
from neutrino.agents.ovs.ports import (
    DEAD_VLAN,
    PortDetails,
    WiredPort,
    dead_port_flow,
    dead_port_match,
)
from neutrino.common import ovs, rpc, shutdown, wire

LOG = logging.getLogger(__name__)

BINARY = "neutrino-openvswitch-agent"
RETRY_INTERVAL = 1.0


class OvsAgent:
    def __init__(self, conf):
        self.conf = conf
        self.host = conf.host
        self.agent_id = f"ovs-agent-{self.host}"
        self.local_ip = conf.ovs.local_ip
        self.tunnel_types = [t for t in conf.agent.tunnel_types if t]
        self.bridge_mappings = dict(conf.ovs.bridge_mappings)
        self.l2_population = conf.agent.l2_population
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.work: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self.extensions = extensions.Extensions(conf.agent.extensions)
        self.ovsdb = ovs.connect(conf.ovs.ovsdb_connection, on_change=self._on_ovsdb_change)
        self.bridges = bridges.Bridges(self.ovsdb, conf, cookie=random.getrandbits(62) | 1)
        self.networks = networks.NetworkFlows(self.bridges, self.local_ip, self.tunnel_types,
                                              self.l2_population, conf.agent.arp_responder)
        self.wired: dict[str, WiredPort] = {}          # by port name
        # What the extensions were told of (handle_port) and not yet of its
        # end: a port re-wired after an update may fail to wire again.
        self.announced: dict[str, WiredPort] = {}
        self.retry: set[str] = set()                    # port names to try again
        self.refilter: set[str] = set()                 # wired ports to filter anew
        self.firewall = firewall.make(conf.securitygroup.firewall_driver, self.bridges.br_int)
        self.plugin = rpc.RpcClient(conf.transport_url, wire.PLUGIN_TOPIC)
        notifications = self.Notifications(self)
        # Deleted ports and networks need no event: their VIFs leave br-int.
        events = ["port_update", "network_update", "tunnel_update"]
        if self.l2_population:
            events += ["fdb_add", "fdb_remove"]
        if self.firewall.filters:
            events += ["security_groups_rule_updated", "security_groups_member_updated"]
        self.listener = rpc.NotificationListener(conf.transport_url, notifications,
                                                 exchange=wire.NOTIFY_EXCHANGE, events=events)

    # -- notifications (listener thread): queue the call, wake the wiring thread
    class Notifications:
        def __init__(self, agent: OvsAgent):
            self._agent = agent
            self._later = agent.call_soon

        def port_update(self, port: dict) -> None:
            self._later(self._agent.rewire, port["id"])

        def network_update(self, network: dict) -> None:
            self._later(self._agent.networks.move_segment, network)

        def tunnel_update(self, tunnel_ip: str, tunnel_type: str, host: str) -> None:
            self._later(self._agent.networks.add_tunnel, tunnel_ip, tunnel_type)

        def fdb_add(self, fdb_entries: dict) -> None:
            self._later(self._agent.networks.fdb_add, fdb_entries)

        def fdb_remove(self, fdb_entries: dict) -> None:
            self._later(self._agent.networks.fdb_remove, fdb_entries)

        def security_groups_rule_updated(self, security_groups: list[str]) -> None:
            self._later(self._agent.refilter_ports, self._agent.firewall.ports_of_groups,
                        security_groups)

        def security_groups_member_updated(self, security_groups: list[str]) -> None:
            self._later(self._agent.refilter_ports, self._agent.firewall.ports_naming_groups,
                        security_groups)

    def call_soon(self, function: Callable[..., object], *args: object) -> None:
        """Have the wiring thread call ``function(*args)`` on its next pass."""
        self.work.put(functools.partial(function, *args))
        self.wake.set()

    def _on_ovsdb_change(self, table: str, event: str) -> None:
        if table in ("Interface", "Port"):
            self.wake.set()

    # -- main loop ---------------------------------------------------------
    def run(self) -> None:
        self.bridges.setup(bool(self.tunnel_types), self.bridge_mappings)
        self.networks.recover()
        self.extensions.initialize(extensions.AgentApi(
            self.host, self.conf, self.bridges.br_int, self.ovsdb, plugin=self.plugin,
            call_soon=self.call_soon, physical=dict(self.bridges.physical)))
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
        shutdown.close_all([self.extensions.close, self.listener.stop, self.plugin.close,
                            lambda: ovs.disconnect(self.ovsdb)])

    def _drain_work(self) -> None:
        while True:
            try:
                call = self.work.get_nowait()
            except queue.Empty:
                return
            call()

    def rewire(self, port_id: str) -> None:
        """The port changed on the server: the next scan wires it with fresh details."""
        for name, port in list(self.wired.items()):
            if port.iface_id == port_id:
                self._unwire(name, report=False, gone=False)

    def refilter_ports(self, ports_of: Callable[[list[str]], set[str]],
                       security_groups: list[str]) -> None:
        self.refilter |= ports_of(security_groups)

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
            self.networks.add_tunnels([tunnel["ip_address"] for tunnel in reply["tunnels"]],
                                      tunnel_type)

    # -- ports -----------------------------------------------------------------
    def _scan_ports(self) -> None:
        current = self.bridges.vif_ports()
        for name in set(self.wired) - set(current):
            self._unwire(name)
        for name in set(self.announced) - set(current):
            self.extensions.delete_port(self.announced.pop(name))
        self.retry &= set(current)
        for name, vif in current.items():
            known = self.wired.get(name)
            if known and known.same_vif(vif):
                continue
            if known:
                self._unwire(name)
            self._wire(name, vif)

    def _wire(self, name: str, vif: dict) -> None:
        try:
            answer = self.plugin.call("get_device_details", device=vif["iface_id"],
                                      agent_id=self.agent_id, host=self.host,
                                      timeout=self.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("no details for port %s (%s); will retry", vif["iface_id"], exc)
            self.retry.add(name)
            return
        details = PortDetails.of(answer)
        if details is None:
            LOG.info("port %s is not known to the server yet; will retry", vif["iface_id"])
            self.retry.add(name)
            return
        port = WiredPort(name, vif["iface_id"], vif["ofport"], details)
        if not self.networks.can_serve(details.network_type, details.physical_network):
            LOG.error("port %s: network type %s (physical network %s) is not served by "
                      "this agent", port.iface_id, details.network_type,
                      details.physical_network)
            self.retry.discard(name)
            self.wired[name] = port
            return
        if not details.admin_state_up:
            self._wire_dead(port)
            return
        net = self.networks.provision(details.network_id, details.network_type or "",
                                      details.segmentation_id, details.physical_network)
        port = dataclasses.replace(port, lvid=net.lvid)
        # Filtered before it gets its VLAN: it never passes unfiltered traffic.
        if name not in self._filter({name: port}):
            self.networks.release_if_unused(net)
            self.retry.add(name)
            return
        net.ports.add(name)
        self.bridges.set_port_vlan(name, net.lvid, networks.port_vlan_config(net))
        self.wired[name] = port
        self.retry.discard(name)
        self._report_device("update_device_up", port.iface_id)
        self._announce(port)
        LOG.info("wired port %s (%s) on VLAN %d for network %s", port.iface_id, name,
                 net.lvid, net.network_id)

    def _wire_dead(self, port: WiredPort) -> None:
        """A port set down through the API: wired to nothing, reported DOWN."""
        self.bridges.br_int.add_flows([dead_port_flow(port.ofport)])
        self.bridges.set_port_vlan(port.name, DEAD_VLAN, {})
        port = dataclasses.replace(port, dead=True)
        self.wired[port.name] = port
        self.retry.discard(port.name)
        self._report_device("update_device_down", port.iface_id)
        self._announce(port)
        LOG.info("port %s (%s) is administratively down: dropping its traffic",
                 port.iface_id, port.name)

    def _unwire(self, name: str, report: bool = True, gone: bool = True) -> None:
        """Forget a wired port: it left br-int (``gone``), or changed and is wired anew."""
        port = self.wired.pop(name, None)
        if port is None:
            return
        self.firewall.remove_port(name)
        self.refilter.discard(name)
        if port.dead:
            self.bridges.br_int.delete_flows([dead_port_match(port.ofport)], strict=True)
        if report:
            self._report_device("update_device_down", port.iface_id)
        if gone and name in self.announced:
            self.extensions.delete_port(self.announced.pop(name))
        net = self.networks.vlans.get(port.network_id) if port.network_id else None
        if net is not None:
            net.ports.discard(name)
            self.networks.release_if_unused(net)

    def _announce(self, port: WiredPort) -> None:
        """Tell the extensions of a port wired (or set dead) anew."""
        self.announced[port.name] = port
        self.extensions.handle_port(port)

    # -- security groups ---------------------------------------------------------
    def _filter(self, ports: dict[str, WiredPort]) -> set[str]:
        """Program the firewall of ``ports`` (by name, each with its local VLAN) with
        one call to the server; the names of those it programmed."""
        if not self.firewall.filters:
            return set(ports)
        devices = [port.iface_id for port in ports.values()]
        started = time.monotonic()
        try:
            info = self.plugin.call("security_group_info_for_devices", devices=devices,
                                    timeout=self.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("no security groups for %s (%s); will retry", ", ".join(devices), exc)
            return set()
        done = set()
        for name, port in ports.items():
            device = info["devices"].get(port.iface_id)
            if device is None:
                LOG.info("port %s is not known to the server; not filtering it yet",
                         port.iface_id)
                continue
            port_info = firewall.port_info(device, info, port.ofport, port.lvid or 0)
            self.firewall.set_port(name, port_info, device["security_groups"])
            done.add(name)
            LOG.info("port %s filtered: %s (%.0f ms since asking the server)", port.iface_id,
                     firewall.describe(port_info), (time.monotonic() - started) * 1000)
        return done

    def _refresh_filters(self) -> None:
        """Filter anew the wired ports whose groups or remote groups changed."""
        if not self.refilter:
            return
        ports = {name: self.wired[name] for name in self.refilter
                 if name in self.wired and self.wired[name].network_id}
        if not ports or self._filter(ports):
            # A port the server no longer knows is about to leave br-int.
            self.refilter.clear()

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
                "arp_responder_enabled": self.networks.arp_responder,
                "devices": len(self.wired), "datapath_type": self.conf.ovs.datapath_type,
            },
        }
