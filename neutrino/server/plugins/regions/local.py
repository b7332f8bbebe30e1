"""A region's core plugin (role local): ML2, with the central server behind it.

The central server owns networks, subnets, addresses, MACs and
segmentation ids; a local server holds copies of what its region uses:

- a network, subnet or port asked for by id and missing here is copied
  from the central server, id, segmentation id, addresses and MAC alike
  (and the central server is told that this region now has the network,
  a resource routing);
- a port is created centrally first (the central server picks its
  address and MAC), then here with the same id; deleting one here deletes
  it centrally too, in the same transaction's last step;
- a port bound here is reported to the central server (its region, host
  and that host's tunnel endpoint), which gives the other regions a
  shadow of it;
- a shadow port (a port of another region) is bound to its remote host
  without an agent and is ACTIVE at once: l2pop and tunnels reach it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.db.database import after_commit
from neutrino.server.lib import device_owners, errors, events
from neutrino.server.plugins.base import PluginContext, Resource
from neutrino.server.plugins.ml2 import binding, l2pop, mechanisms
from neutrino.server.plugins.ml2.networks import NETWORK
from neutrino.server.plugins.ml2.plugin import Ml2Plugin
from neutrino.server.plugins.ml2.ports import PORT, internal_body
from neutrino.server.plugins.ml2.subnets import SUBNET
from neutrino.server.plugins.ml2.tunnel_endpoints import TunnelEndpoints
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.regions import options, shadows
from neutrino.server.plugins.regions.remote import V1, RemoteApi

LOG = logging.getLogger(__name__)

# What of a network, subnet or port the central copy gives the local one.
_NETWORK_FIELDS = ("id", "name", "description", "project_id", "admin_state_up", "shared",
                   "router:external", "mtu", "provider:network_type",
                   "provider:physical_network", "provider:segmentation_id",
                   "port_security_enabled")
_SUBNET_FIELDS = ("id", "network_id", "name", "description", "project_id", "cidr",
                  "ip_version", "gateway_ip", "allocation_pools", "enable_dhcp",
                  "dns_nameservers", "host_routes")
_PORT_FIELDS = ("id", "network_id", "name", "description", "project_id", "mac_address",
                "device_id", "device_owner", "admin_state_up")
# What a port create body gives the central server (binding stays in the region).
_CENTRAL_PORT_FIELDS = ("network_id", "name", "description", "project_id", "mac_address",
                        "fixed_ips", "device_id", "device_owner", "admin_state_up")


# Ports of resources the central server may have made already (same device id).
_ADOPTED_OWNERS = (device_owners.ROUTER_GATEWAY, device_owners.ROUTER_INTERFACE,
                   device_owners.FLOATINGIP)


def _fields(item: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}


def _fixed_ips(port: dict[str, Any]) -> list[dict[str, str]]:
    return [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
            for ip in port.get("fixed_ips") or ()]


class ShadowPortDriver(mechanisms.MechanismDriver):
    """Binds shadow ports (ports of other regions) to their remote host, agent or not:
    the first mechanism driver of a region's server."""

    def __init__(self, context: mechanisms.DriverContext, region: str):
        super().__init__(context)
        self.region = region

    def bind(self, session: Session, port: models.Port,
             segments: Sequence[Segment]) -> binding.Binding | None:
        placement = shadows.shadow_of({"binding:profile": port.binding.profile}, self.region)
        if port.device_owner != device_owners.SHADOW or placement is None:
            return None
        return binding.Binding(binding.VIF_TYPE_OVS,
                               {"port_filter": False, "region": placement.region},
                               segments[0] if segments else None)


class LocalMl2Plugin(Ml2Plugin):
    options = options.OPTIONS   # ML2's as well

    def __init__(self, context: PluginContext):
        self.region = context.conf.region.region_name
        super().__init__(context)
        region_conf = context.conf.region
        self.central = RemoteApi(region_conf.central_url, "the central server",
                                 region_conf.request_timeout)
        self.tunnels = TunnelEndpoints(context.db)
        # Copies are made one at a time: two requests for one missing network
        # must not both create it.
        self.copy_lock = threading.RLock()
        context.events.subscribe(self._report_binding, events.PORT, events.AFTER_CREATE)
        context.events.subscribe(self._report_binding, events.PORT, events.AFTER_UPDATE)
        context.events.subscribe(self._delete_centrally, events.PORT, events.PRECOMMIT_DELETE)

    def make_mechanisms(self, context: mechanisms.DriverContext) -> mechanisms.MechanismManager:
        made = super().make_mechanisms(context)
        made.drivers.insert(0, ShadowPortDriver(context, self.region))
        return made

    def resources(self) -> Sequence[Resource]:
        own = {resource.name: resource for resource in super().resources()}
        return (
            Resource("network", "networks", NETWORK, _CopiedFromCentral(self, "network")),
            Resource("subnet", "subnets", SUBNET, _CopiedFromCentral(self, "subnet")),
            Resource("port", "ports", PORT, LocalPorts(self)),
            own["agent"],
        )

    # -- copies of the central server's resources ------------------------------
    def _central(self, collection: str, resource: str, resource_id: str) -> dict[str, Any]:
        found = self.central.find(collection, resource, resource_id)
        if found is None:
            raise errors.resource_not_found(resource, resource_id)
        return found

    def _local(self, service: Any, resource_id: str) -> dict[str, Any] | None:
        try:
            return service.get(resource_id)
        except errors.NotFound:
            return None

    def _route(self, resource_type: str, resource: dict[str, Any]) -> None:
        """Tell the central server that this region now has ``resource``."""
        self.central.create("routings", "routing", {
            "top_id": resource["id"], "bottom_id": resource["id"],
            "region_name": self.region, "resource_type": resource_type,
            "project_id": resource.get("project_id") or ""}, prefix=V1)

    def copied(self, service: Any, resource: str, resource_id: str,
               make: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """``service``'s ``resource``; one missing here is first made by ``make`` from
        the central server's (a 404 if that has none either)."""
        with self.copy_lock:
            local = self._local(service, resource_id)
            if local is None:
                make(self._central(f"{resource}s", resource, resource_id))
                local = service.get(resource_id)
            return local

    def network_copy(self, network_id: str) -> dict[str, Any]:
        """The network, copied from the central server (with its subnets) if missing."""
        return self.copied(self.networks, "network", network_id, self._copy_network)

    def _copy_network(self, central: dict[str, Any]) -> None:
        # Routed first: should the copy fail half-way, the central server's
        # next job asks again, and that copies it.
        self._route("network", central)
        self.networks.create(_fields(central, _NETWORK_FIELDS))
        LOG.info("network %s (segmentation id %s) copied from the central server",
                 central["id"], central.get("provider:segmentation_id"))
        for subnet_id in central.get("subnets") or ():
            self.subnet_copy(subnet_id)

    def subnet_copy(self, subnet_id: str) -> dict[str, Any]:
        return self.copied(self.subnets, "subnet", subnet_id, self._copy_subnet)

    def _copy_subnet(self, central: dict[str, Any]) -> None:
        self.network_copy(central["network_id"])   # may have copied this subnet
        if self._local(self.subnets, central["id"]) is None:
            self.subnets.create(_fields(central, _SUBNET_FIELDS))

    def port_copy(self, port_id: str) -> dict[str, Any]:
        """The port; a port of another region becomes a shadow here."""
        return self.copied(self.ports, "port", port_id, self._copy_port)

    def _copy_port(self, central: dict[str, Any]) -> None:
        self.network_copy(central["network_id"])
        for fixed_ip in _fixed_ips(central):
            self.subnet_copy(fixed_ip["subnet_id"])
        placement = shadows.shadow_of(central, self.region)
        if placement is None:
            body = {**_fields(central, _PORT_FIELDS), "fixed_ips": _fixed_ips(central)}
            self.context.db.run(lambda session: self.ports.add(session, internal_body(body)))
        else:
            self._add_shadow(central, placement)

    def _add_shadow(self, central: dict[str, Any], placement: shadows.Placement) -> None:
        network = self.networks.get(central["network_id"])
        tunnel_type = network.get("provider:network_type")
        if tunnel_type in l2pop.TUNNEL_TYPES:
            self.tunnels.sync(placement.tunnel_ip, tunnel_type, placement.host)
        body = internal_body({
            **_fields(central, _PORT_FIELDS), "fixed_ips": _fixed_ips(central),
            "device_owner": device_owners.SHADOW, "binding:host_id": placement.host,
            "binding:profile": placement.profile()})

        def work(session: Session) -> None:
            port = self.ports.add(session, body)
            port.status = "ACTIVE"   # no agent here reports it: it is up where it lives

            def tell_agents() -> None:
                if tunnel_type in l2pop.TUNNEL_TYPES:
                    self.notifier.tunnel_update(placement.tunnel_ip, tunnel_type,
                                                placement.host)
                self.mechanisms.port_up(central["network_id"])
            after_commit(session, tell_agents)

        self.context.db.run(work)
        LOG.info("port %s of region %s (host %s, %s) stands in here as a shadow",
                 central["id"], placement.region, placement.host, placement.tunnel_ip)

    # -- this region's ports, as the central server must know them -------------
    def create_port_centrally(self, body: dict[str, Any]) -> dict[str, Any]:
        """The central copy of a new port: its id, MAC and addresses are the central's."""
        central_body = _fields(body, _CENTRAL_PORT_FIELDS)
        if "fixed_ips" in central_body:
            central_body["fixed_ips"] = [
                {key: value for key, value in ip.items() if value is not None}
                for ip in central_body["fixed_ips"]]
        return self.central.create("ports", "port", central_body)

    def local_body(self, body: dict[str, Any], central: dict[str, Any]) -> dict[str, Any]:
        return {**body, "id": central["id"], "mac_address": central["mac_address"],
                "fixed_ips": _fixed_ips(central)}

    def add_port(self, session: Session, fields: dict[str, Any]) -> models.Port:
        """A service plugin's port (a router's, a DHCP server's): centrally first too.

        A router's or floating IP's port that the central server made already
        for the same router or floating IP (the ids are the same here) is
        that port: its address is the one the central server handed out.
        """
        body = internal_body(fields)
        central = self._central_port_for(body)
        made = central is None
        if central is None:
            central = self.create_port_centrally(body)
        try:
            return self.ports.add(session, internal_body(self.local_body(body, central)))
        except Exception:
            if made:
                self.central.delete("ports", central["id"])
            raise

    def _central_port_for(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("device_owner") not in _ADOPTED_OWNERS or not body.get("device_id"):
            return None
        wanted = {ip.get("subnet_id") for ip in body.get("fixed_ips") or ()} - {None}
        for port in self.central.list("ports", device_id=body["device_id"],
                                      device_owner=body["device_owner"],
                                      network_id=body["network_id"]):
            if not wanted or wanted & {ip["subnet_id"] for ip in port["fixed_ips"]}:
                LOG.info("%s port %s of %s is the central server's", body["device_owner"],
                         port["id"], body["device_id"])
                return port
        return None

    def _delete_centrally(self, payload: events.Payload) -> None:
        """The last step of deleting one of this region's ports: its central copy.
        A central server that cannot be reached fails the delete (503), so the two
        never disagree."""
        port = payload.states[0]
        if not shadows.is_shadow(port):
            self.central.delete("ports", port["id"])

    def _report_binding(self, payload: events.Payload) -> None:
        after = payload.latest
        if shadows.is_shadow(after):
            return
        before = payload.states[0] if len(payload.states) == 2 else None
        placement = self._placement(after)
        if before is not None and self._placement(before) == placement:
            return
        if before is None and placement is None:
            return
        self.central.update("ports", "port", after["id"], {
            "binding:profile": placement.profile() if placement else {}})
        LOG.info("port %s reported to the central server as bound %s", after["id"],
                 f"to {placement.host} ({placement.tunnel_ip})" if placement else "nowhere")

    def _placement(self, port: dict[str, Any]) -> shadows.Placement | None:
        host = port.get("binding:host_id") or ""
        if not host or port.get("binding:vif_type") in binding.UNBOUND_VIF_TYPES:
            return None

        def tunnel_ip(session: Session) -> str | None:
            network = session.get(models.Network, port["network_id"])
            if network is None or not network.segments:
                return None
            return session.scalar(sa.select(models.TunnelEndpoint.ip_address).where(
                models.TunnelEndpoint.host == host,
                models.TunnelEndpoint.tunnel_type == network.segments[0].network_type))

        address = self.context.db.run(tunnel_ip)
        return shadows.Placement(self.region, host, address) if address else None


class _CopiedFromCentral:
    """A region's networks or subnets: the central server's, copied here when first
    asked for, and made centrally (where ids, segments and pools are handed out),
    then copied, when created here.  Updates and deletes are this region's copy's:
    the central server deletes its own, and the regions' with it."""

    def __init__(self, plugin: LocalMl2Plugin, resource: str):
        self.plugin = plugin
        self.resource = resource
        self.service = plugin.networks if resource == "network" else plugin.subnets
        self.copy = plugin.network_copy if resource == "network" else plugin.subnet_copy

    def list(self) -> list[dict[str, Any]]:
        return self.service.list()

    def get(self, resource_id: str) -> dict[str, Any]:
        return self.copy(resource_id)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.resource == "subnet":
            self.plugin.network_copy(body["network_id"])
        central = self.plugin.central.create(f"{self.resource}s", self.resource, body)
        return self.copy(central["id"])

    def update(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.service.update(resource_id, body)

    def delete(self, resource_id: str) -> None:
        self.service.delete(resource_id)


class LocalPorts:
    """A region's ports: created centrally first, then here with the same id."""

    def __init__(self, plugin: LocalMl2Plugin):
        self.plugin = plugin

    def list(self) -> list[dict[str, Any]]:
        return self.plugin.ports.list()

    def get(self, port_id: str) -> dict[str, Any]:
        return self.plugin.port_copy(port_id)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        plugin = self.plugin
        plugin.network_copy(body["network_id"])
        central = plugin.create_port_centrally(body)
        try:
            for fixed_ip in _fixed_ips(central):
                plugin.subnet_copy(fixed_ip["subnet_id"])
            return plugin.ports.create(plugin.local_body(body, central))
        except Exception:
            plugin.central.delete("ports", central["id"])
            raise

    def update(self, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.plugin.ports.update(port_id, body)

    def delete(self, port_id: str) -> None:
        self.plugin.ports.delete(port_id)
