"""One router on this host: its namespace, ports, routes and NAT."""

from __future__ import annotations

import logging
import subprocess

from neutrino.agents.l3 import nat
from neutrino.common import ip

LOG = logging.getLogger(__name__)

INTERNAL = "qr-"
GATEWAY = "qg-"


def device_name(kind: str, port_id: str) -> str:
    return f"{kind}{port_id[:11]}"


def host_side_name(port_id: str) -> str:
    """The veth end on br-int: the same name an instance's tap would get."""
    return f"tap{port_id[:11]}"


class Router:
    def __init__(self, router_id: str, namespace_prefix: str, plugger):
        self.id = router_id
        self.namespace = f"{namespace_prefix}qrouter-{router_id}"
        self.plugger = plugger
        self.floating_ips: dict[str, str] = {}   # floating address -> fixed address

    def apply(self, data: dict) -> None:
        """Make the namespace match ``data`` (a router from sync_routers)."""
        ip.ensure_namespace(self.namespace)
        ip.enable_forwarding(self.namespace)
        wanted: dict[str, dict] = {
            device_name(INTERNAL, port["id"]): port for port in data.get("interfaces", [])}
        gw_port = data.get("gw_port")
        if gw_port:
            wanted[device_name(GATEWAY, gw_port["id"])] = gw_port
        for device in set(self._current_devices()) - set(wanted):
            self._unplug(device)
        # Translation first: a floating address that exists before its DNAT
        # rule would be answered by the router itself.
        self._nat(data, gw_port)
        for device, port in wanted.items():
            extra = []
            if gw_port is port:
                extra = [f"{fip['floating_ip_address']}/32"
                         for fip in data.get("floating_ips", [])]
            self._plug(device, port, extra)
        self._route(gw_port)

    def _current_devices(self) -> list[str]:
        return [name for name in ip.links(self.namespace)
                if name.startswith((INTERNAL, GATEWAY))]

    def _plug(self, device: str, port: dict, extra_cidrs: list[str]) -> None:
        outside = host_side_name(port["id"])
        ip.ensure_veth(outside, device, self.namespace, mac=port["mac_address"],
                       mtu=port.get("mtu") or None)
        self.plugger.plug(outside, port["id"], port["mac_address"])
        cidrs = [f"{f['ip_address']}/{f['prefixlen']}" for f in port["fixed_ips"]]
        ip.set_addresses(device, cidrs + extra_cidrs, self.namespace)

    def _unplug(self, device: str) -> None:
        # Both names carry the same 11 characters of the port id.
        outside = host_side_name(device[len(INTERNAL):])
        self.plugger.unplug(outside)
        ip.delete_link(outside)
        ip.delete_link(device, self.namespace)

    def _route(self, gw_port: dict | None) -> None:
        gateway = None
        if gw_port:
            gateways = [s["gateway_ip"] for s in gw_port.get("subnets", []) if s["gateway_ip"]]
            gateway = gateways[0] if gateways else None
            # The external network's other subnets are reached on the link,
            # not through the gateway: a floating IP of one answers its peers.
            ip.set_link_routes(device_name(GATEWAY, gw_port["id"]),
                               [s["cidr"] for s in gw_port.get("extra_subnets", [])],
                               self.namespace)
        ip.set_default_route(self.namespace, gateway)

    def _nat(self, data: dict, gw_port: dict | None) -> None:
        floating = data.get("floating_ips", [])
        mapping = {f["floating_ip_address"]: f["fixed_ip_address"] for f in floating}
        rules = nat.nat_rules(
            gateway_device=device_name(GATEWAY, gw_port["id"]) if gw_port else None,
            gateway_ip=gw_port["fixed_ips"][0]["ip_address"] if gw_port else None,
            enable_snat=data.get("enable_snat", True),
            internal_cidrs=[s["cidr"] for port in data.get("interfaces", [])
                            for s in port.get("subnets", [])],
            floating_ips=floating)
        subprocess.run(ip.in_namespace(self.namespace, ["iptables-restore"]), input=rules,
                       text=True, check=True, capture_output=True)
        changed = {address for address in set(mapping) | set(self.floating_ips)
                   if mapping.get(address) != self.floating_ips.get(address)}
        for address in changed:
            # NAT is decided on a flow's first packet: flows that began under
            # the old mapping (or none) would keep it.
            subprocess.run(ip.in_namespace(self.namespace, ["conntrack", "-D", "-d", address]),
                           capture_output=True, check=False)
        self.floating_ips = mapping

    def destroy(self) -> None:
        for device in self._current_devices():
            self._unplug(device)
        ip.delete_namespace(self.namespace)
        LOG.info("router %s removed", self.id)
