"""The central server's service plugin (role central): regions, routings, jobs.

Its API (``/v1.0/pods``, ``/v1.0/routings``, ``/v1.0/jobs``) is admin.py's;
here is what queues jobs and what each job does.  A port reported bound in
one region, or deleted, queues a ``shadow_port_setup`` job on its network:
every region with the network then gets a shadow of each port bound in
another region, and loses the shadows of ports gone.  Deleting a network or subnet centrally deletes
every region's copy first (a region that refuses or cannot be reached
fails the delete, and nothing changes).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import device_owners, errors, events
from neutrino.server.plugins.base import (
    CorePlugin,
    PeriodicTask,
    PluginContext,
    Resource,
    ServicePlugin,
)
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.regions import admin, jobs, options, shadows
from neutrino.server.plugins.regions.models import Pod, ResourceRouting
from neutrino.server.plugins.regions.remote import V1, RemoteApi

LOG = logging.getLogger(__name__)

_ROUTER_PORTS = (device_owners.ROUTER_INTERFACE, device_owners.ROUTER_GATEWAY)


# A region's ports of the central server's routers and floating IPs.
_RELEASED_OWNERS = (device_owners.ROUTER_INTERFACE, device_owners.ROUTER_GATEWAY,
                    device_owners.FLOATINGIP)


def _api(pod: Pod, timeout: float) -> RemoteApi:
    """The region's local server; a pod registered without an endpoint fails the job."""
    if not pod.endpoint:
        raise RuntimeError(f"region {pod.region_name} has no endpoint: set the pod's "
                           "endpoint to its local server's API")
    return RemoteApi(pod.endpoint, pod.region_name, timeout)


class RegionsPlugin(ServicePlugin):
    options = options.OPTIONS

    def __init__(self, context: PluginContext, core: CorePlugin):
        super().__init__(context, core)
        region_conf = context.conf.region
        self.timeout = region_conf.request_timeout
        self.redo_interval = region_conf.failed_job_redo_interval
        self.workers = region_conf.job_workers
        self.runner = jobs.JobRunner(
            context.db, {jobs.SHADOW_PORT_SETUP: self.set_up_shadow_ports,
                         jobs.ROUTER_SETUP: self.set_up_router,
                         jobs.FLOATINGIP_SETUP: self.set_up_floating_ip},
            region_conf.job_attempts, region_conf.job_retry_delay)
        self.pods = admin.PodService(context.db)
        self.routings = admin.RoutingService(context.db, self.runner)
        self.jobs = admin.JobService(context.db, self.runner)
        context.events.subscribe(self._port_updated, events.PORT, events.AFTER_UPDATE)
        context.events.subscribe(self._port_deleted, events.PORT, events.AFTER_DELETE)
        for event in (events.AFTER_CREATE, events.AFTER_UPDATE, events.AFTER_DELETE):
            context.events.subscribe(self._router_or_fip_port, events.PORT, event)
        context.events.subscribe(self._fip_updated, "floatingip", events.AFTER_UPDATE)
        context.events.subscribe(self._delete_in_regions("networks", "network"),
                                 events.NETWORK, events.PRECOMMIT_DELETE)
        context.events.subscribe(self._delete_in_regions("subnets", "subnet"),
                                 events.SUBNET, events.PRECOMMIT_DELETE)

    def initialize(self) -> None:
        self.runner.recover()

    def resources(self) -> Sequence[Resource]:
        return (
            Resource("pod", "pods", admin.POD, self.pods, prefix=V1),
            Resource("routing", "routings", admin.ROUTING, self.routings, prefix=V1),
            Resource("job", "jobs", admin.JOB, self.jobs, prefix=V1),
        )

    def periodic_tasks(self) -> Sequence[PeriodicTask]:
        tasks = [PeriodicTask(f"job-worker-{n}", 0.0, self.runner.work)
                 for n in range(1, self.workers + 1)]
        if self.redo_interval > 0:
            tasks.append(PeriodicTask("failed-job-redo", self.redo_interval,
                                      self.runner.redo_failed))
        return tasks

    # -- what queues jobs -------------------------------------------------------
    def _port_updated(self, payload: events.Payload) -> None:
        before, after = payload.states
        if shadows.Placement.of(before) != shadows.Placement.of(after):
            self.runner.queue(jobs.SHADOW_PORT_SETUP, after["network_id"], after["project_id"])

    def _port_deleted(self, payload: events.Payload) -> None:
        before = payload.states[0]
        if shadows.Placement.of(before) is not None:
            self.runner.queue(jobs.SHADOW_PORT_SETUP, before["network_id"], before["project_id"])

    def _router_or_fip_port(self, payload: events.Payload) -> None:
        """A router's gateway or interface, or a floating IP's port, came or went (or a
        port became one, or stopped being one: an interface added by port id)."""
        owners = {(state.get("device_owner"), state.get("device_id"))
                  for state in payload.states}
        if len(payload.states) == 2 and len(owners) == 1:
            return   # an update that left the port's owner as it was
        for owner, device in owners:
            if not device:
                continue
            if owner in _ROUTER_PORTS:
                self.runner.queue(jobs.ROUTER_SETUP, device)
            elif owner == device_owners.FLOATINGIP:
                self.runner.queue(jobs.FLOATINGIP_SETUP, device)

    def _fip_updated(self, payload: events.Payload) -> None:
        self.runner.queue(jobs.FLOATINGIP_SETUP, payload.resource_id)

    # -- the regions ------------------------------------------------------------
    def region_apis(self, session: Session, network_id: str) -> list[RemoteApi]:
        """The local servers of the regions that have the network."""
        pods = session.scalars(sa.select(Pod).join(
            ResourceRouting, ResourceRouting.pod_id == Pod.pod_id).where(
            ResourceRouting.top_id == network_id,
            ResourceRouting.resource_type == "network").order_by(Pod.region_name))
        return [_api(pod, self.timeout) for pod in pods]

    def set_up_shadow_ports(self, network_id: str) -> None:
        """The job: each region with the network has a shadow of every port bound in
        another region, and no shadow of a port gone or moved."""
        def read(session: Session) -> tuple[list[dict[str, Any]], list[RemoteApi]]:
            ports = session.scalars(sa.select(models.Port).where(
                models.Port.network_id == network_id))
            return ([self.core.port_dict(session, port) for port in ports],
                    self.region_apis(session, network_id))

        central_ports, regions = self.context.db.run(read)
        failures = []
        for api in regions:
            try:
                self._shadow_ports_in(api, network_id, central_ports)
            except errors.ApiError as error:
                failures.append(f"{api.who}: {error.message}")
        if failures:
            raise RuntimeError("; ".join(failures))

    @staticmethod
    def _shadow_ports_in(api: RemoteApi, network_id: str,
                         central_ports: list[dict[str, Any]]) -> None:
        wanted = {port["id"]: placement for port in central_ports
                  if (placement := shadows.shadow_of(port, api.who)) is not None}
        local = {port["id"]: port for port in api.list("ports", network_id=network_id)}
        for port in list(local.values()):   # shadows removed go from ``local`` too
            if shadows.is_shadow(port) and (
                    shadows.Placement.of(port) != wanted.get(port["id"])):
                api.delete("ports", port["id"])
                LOG.info("shadow of port %s removed from region %s", port["id"], api.who)
                local.pop(port["id"])
        for port_id in wanted.keys() - local.keys():
            # The region copies the central port as a shadow when asked for it.
            api.show("ports", "port", port_id)
            LOG.info("port %s shadowed in region %s", port_id, api.who)

    def _delete_in_regions(self, collection: str, resource: str):
        def delete(payload: events.Payload) -> None:
            session = payload.session
            state = payload.states[0]
            network_id = state["id"] if resource == "network" else state["network_id"]
            for api in self.region_apis(session, network_id):
                self._release_router_ports(session, api, network_id)
                api.delete(collection, state["id"])
            session.execute(sa.delete(ResourceRouting).where(
                ResourceRouting.top_id == state["id"]))
        return delete

    def _release_router_ports(self, session: Session, api: RemoteApi, network_id: str) -> None:
        """Take out of the region the router and floating IP ports on
        ``network_id`` that the central server no longer has: their job has not
        run yet (queued behind others, or failed), and the region would refuse
        the delete for them.  What the job would do for them; it then finds it
        done.

        Not on SQLite: there this transaction holds the database's write lock,
        and the region's delete calls this server back for the port (a 404,
        but one that waits for the lock); the region's 409 stands.
        """
        if session.get_bind().dialect.name == "sqlite":
            return
        for port in api.list("ports", network_id=network_id):
            owner, device_id = port["device_owner"], port["device_id"]
            if (owner not in _RELEASED_OWNERS
                    or session.get(models.Port, port["id"]) is not None):
                continue
            try:
                if owner == device_owners.ROUTER_INTERFACE:
                    self._remove_interfaces(api, device_id, {port["id"]})
                elif owner == device_owners.ROUTER_GATEWAY:
                    api.update("routers", "router", device_id, {"external_gateway_info": None})
                else:
                    api.delete("floatingips", device_id)
            except errors.NotFound:
                pass   # the job got there first
            LOG.info("%s port %s of %s released in region %s before the delete of network "
                     "%s", owner, port["id"], device_id, api.who, network_id)

    # -- routers and floating IPs: they live in the region their hint names -------
    def _home(self, session: Session, resource_type: str, resource_id: str,
              hints: Sequence[str]) -> Pod | None:
        """The pod the resource lives in: the one it is routed to, else its hint's
        (and then it is routed there)."""
        routed = session.scalar(sa.select(Pod).join(
            ResourceRouting, ResourceRouting.pod_id == Pod.pod_id).where(
            ResourceRouting.top_id == resource_id,
            ResourceRouting.resource_type == resource_type))
        if routed is not None or not hints:
            return routed
        pod = session.scalar(sa.select(Pod).where(Pod.region_name == hints[0]))
        if pod is None:
            raise RuntimeError(f"{resource_type} {resource_id}: no region {hints[0]} (its "
                               "availability zone hint) among the pods")
        session.add(ResourceRouting(top_id=resource_id, bottom_id=resource_id,
                                           pod_id=pod.pod_id, resource_type=resource_type))
        session.flush()
        return pod

    def _unroute(self, resource_id: str) -> None:
        self.context.db.run(lambda session: session.execute(sa.delete(
            ResourceRouting).where(ResourceRouting.top_id == resource_id)))

    def set_up_router(self, router_id: str) -> None:
        """The job: the router of the region it lives in has the central router's
        gateway and interfaces (the same ports), or is gone with it."""
        def read(session: Session) -> tuple[Any, RemoteApi | None]:
            router = session.get(l3_models.Router, router_id)
            pod = self._home(session, "router", router_id,
                             router.availability_zone_hints if router else ())
            api = _api(pod, self.timeout) if pod else None
            if router is None:
                return None, api
            gateway = router.gw_port
            wanted = {
                "gateway": ({"network_id": gateway.network_id,
                             "enable_snat": router.enable_snat} if gateway else None),
                "interfaces": {attached.port_id: attached.port.fixed_ips[0].subnet_id
                               for attached in router.attached_ports
                               if attached.port_type == device_owners.ROUTER_INTERFACE
                               and attached.port.fixed_ips},
            }
            return wanted, api

        wanted, api = self.context.db.run(read)
        if api is None:
            return   # a router of the central server only
        if wanted is None:
            self._remove_router(api, router_id)
            return
        local = api.show("routers", "router", router_id)   # copied there if missing
        have = (local.get("external_gateway_info") or {}).get("network_id")
        want = (wanted["gateway"] or {}).get("network_id")
        if have != want:
            if want:
                api.show("networks", "network", want)
            api.update("routers", "router", router_id,
                       {"external_gateway_info": wanted["gateway"]})
        interfaces = self._interfaces(api, router_id)
        for port_id, subnet_id in wanted["interfaces"].items():
            if port_id not in interfaces:
                api.show("subnets", "subnet", subnet_id)
                api.request("PUT", f"/v2.0/routers/{router_id}/add_router_interface",
                            {"subnet_id": subnet_id})
        self._remove_interfaces(api, router_id, interfaces - wanted["interfaces"].keys())
        LOG.info("router %s set up in region %s", router_id, api.who)

    @staticmethod
    def _interfaces(api: RemoteApi, router_id: str) -> set[str]:
        """The ids of the router's interface ports in the region."""
        return {port["id"] for port in api.list(
            "ports", device_id=router_id, device_owner=device_owners.ROUTER_INTERFACE)}

    @staticmethod
    def _remove_interfaces(api: RemoteApi, router_id: str, port_ids: set[str]) -> None:
        for port_id in port_ids:
            api.request("PUT", f"/v2.0/routers/{router_id}/remove_router_interface",
                        {"port_id": port_id})

    def _remove_router(self, api: RemoteApi, router_id: str) -> None:
        if api.find("routers", "router", router_id) is not None:
            self._remove_interfaces(api, router_id, self._interfaces(api, router_id))
            api.delete("routers", router_id)
        self._unroute(router_id)
        LOG.info("router %s removed from region %s", router_id, api.who)

    def set_up_floating_ip(self, fip_id: str) -> None:
        """The job: the floating IP lives in its router's region, mapped to the same
        port (there a shadow, if the port is another region's), or is gone."""
        def read(session: Session) -> tuple[Any, RemoteApi | None]:
            fip = session.get(l3_models.FloatingIP, fip_id)
            router = session.get(l3_models.Router, fip.router_id) if fip and fip.router_id else None
            pod = self._home(session, "floatingip", fip_id,
                             router.availability_zone_hints if router else ())
            return (fip.fixed_port_id if fip else False), (_api(pod, self.timeout) if pod else None)

        port_id, api = self.context.db.run(read)
        if api is None:
            return
        if port_id is False:
            api.delete("floatingips", fip_id)
            self._unroute(fip_id)
            return
        local = api.find("floatingips", "floatingip", fip_id)
        if local is None:
            api.show("floatingips", "floatingip", fip_id)   # copied there, associated
        elif local.get("port_id") != port_id:
            if port_id:
                api.show("ports", "port", port_id)
            api.update("floatingips", "floatingip", fip_id, {"port_id": port_id})
        LOG.info("floating IP %s set up in region %s", fip_id, api.who)
