"""The central server's own API, under /v1.0: pods, routings and jobs.

- ``/v1.0/pods``: the regions, each with the API of its local server;
- ``/v1.0/routings``: which local resource in which region a central one
  is (local servers add one when they copy a network, subnet or port; a
  network's first queues a ``shadow_port_setup`` job);
- ``/v1.0/jobs``: the work across regions and how it went; ``PUT`` on a
  failed job runs it again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db.database import Database
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes, read_only
from neutrino.server.plugins.regions import jobs
from neutrino.server.plugins.regions.models import AsyncJob, Pod, ResourceRouting

RESOURCE_TYPES = ("network", "subnet", "port", "router", "floatingip")


def _endpoint(value: Any) -> str:
    url = v.string(value)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"'{url}' is not an http:// or https:// URL")
    return url.rstrip("/")


POD = ResourceAttributes("pod", (
    Attribute("pod_id"),
    Attribute("region_name", v.string, REQUIRED, update=False),
    Attribute("pod_az_name", v.string, ""),
    Attribute("az_name", v.string, ""),
    Attribute("dc_name", v.string, ""),
    # Where the region's local server answers (Tricircle read it from Keystone's
    # catalogue); a pod without one is listed, but no job can reach it.
    Attribute("endpoint", v.nullable(_endpoint), None),
))

ROUTING = ResourceAttributes("routing", (
    Attribute("id"),
    Attribute("top_id", v.uuid_string, REQUIRED, update=False),
    Attribute("bottom_id", v.uuid_string, REQUIRED, update=False),
    Attribute("pod_id", v.uuid_string, update=False),
    Attribute("region_name", v.string, update=False),
    Attribute("resource_type", v.one_of(*RESOURCE_TYPES), REQUIRED, update=False),
    Attribute("project_id", v.string, "", update=False),
    *read_only("created_at", "updated_at"),
))

JOB = ResourceAttributes("job", (
    Attribute("id"),
    Attribute("type", v.string, REQUIRED, update=False),
    Attribute("resource_id", v.uuid_string, REQUIRED, update=False),
    Attribute("project_id", v.string, "", update=False),
    *read_only("status", "attempts", "last_error", "created_at", "updated_at"),
))


def pod_dict(pod: Pod) -> dict[str, Any]:
    return {"pod_id": pod.pod_id, "region_name": pod.region_name,
            "pod_az_name": pod.pod_az_name, "az_name": pod.az_name, "dc_name": pod.dc_name,
            "endpoint": pod.endpoint or None}


def routing_dict(routing: ResourceRouting, region_name: str) -> dict[str, Any]:
    return {"id": routing.id, "top_id": routing.top_id, "bottom_id": routing.bottom_id,
            "pod_id": routing.pod_id, "region_name": region_name,
            "resource_type": routing.resource_type, "project_id": routing.project_id,
            "created_at": clock.to_api(routing.created_at),
            "updated_at": clock.to_api(routing.updated_at)}


def job_dict(job: AsyncJob) -> dict[str, Any]:
    return {"id": job.id, "type": job.type, "resource_id": job.resource_id,
            "project_id": job.project_id, "status": job.status, "attempts": job.attempts,
            "last_error": job.last_error, "created_at": clock.to_api(job.created_at),
            "updated_at": clock.to_api(job.updated_at)}


def _load(session: Session, model: Any, what: str, key: str) -> Any:
    row = session.get(model, key)
    if row is None:
        raise errors.NotFound(f"{what} {key} could not be found", f"{what}NotFound")
    return row


class PodService:
    def __init__(self, db: Database):
        self.db = db

    def list(self) -> list[dict[str, Any]]:
        return self.db.run(lambda session: [pod_dict(pod) for pod in session.scalars(
            sa.select(Pod).order_by(Pod.region_name))])

    def get(self, pod_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: pod_dict(_load(session, Pod, "Pod", pod_id)))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            name = body["region_name"]
            if not name:
                raise errors.invalid_input("region_name", "a region needs a name")
            if session.scalar(sa.select(Pod).where(Pod.region_name == name)):
                raise errors.Conflict(f"Region {name} is already a pod", "PodExists")
            pod = Pod(region_name=name, pod_az_name=body["pod_az_name"],
                      az_name=body["az_name"], dc_name=body["dc_name"],
                      endpoint=body["endpoint"] or "")
            session.add(pod)
            session.flush()
            return pod_dict(pod)
        return self.db.run(work)

    def update(self, pod_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            pod = _load(session, Pod, "Pod", pod_id)
            for name in ("pod_az_name", "az_name", "dc_name"):
                if name in body:
                    setattr(pod, name, body[name])
            if "endpoint" in body:
                pod.endpoint = body["endpoint"] or ""
            return pod_dict(pod)
        return self.db.run(work)

    def delete(self, pod_id: str) -> None:
        def work(session: Session) -> None:
            pod = _load(session, Pod, "Pod", pod_id)
            if session.scalar(sa.select(sa.func.count()).select_from(ResourceRouting)
                              .where(ResourceRouting.pod_id == pod_id)):
                raise errors.Conflict(f"Region {pod.region_name} still has resources of the "
                                      "central server; delete them first", "PodInUse")
            session.delete(pod)
        self.db.run(work)


class RoutingService:
    def __init__(self, db: Database, runner: jobs.JobRunner):
        self.db = db
        self.runner = runner

    def _view(self, session: Session, routing: ResourceRouting) -> dict[str, Any]:
        pod = session.get(Pod, routing.pod_id)
        return routing_dict(routing, pod.region_name if pod else "")

    def list(self) -> list[dict[str, Any]]:
        return self.db.run(lambda session: [self._view(session, row) for row in session.scalars(
            sa.select(ResourceRouting).order_by(ResourceRouting.created_at))])

    def get(self, routing_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: self._view(
            session, _load(session, ResourceRouting, "Routing", routing_id)))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Idempotent: a local server that copies a resource again gets the same routing."""
        def work(session: Session) -> dict[str, Any]:
            pod = self._pod(session, body)
            row = session.scalar(sa.select(ResourceRouting).where(
                ResourceRouting.top_id == body["top_id"],
                ResourceRouting.pod_id == pod.pod_id,
                ResourceRouting.resource_type == body["resource_type"]))
            if row is None:
                row = ResourceRouting(
                    top_id=body["top_id"], bottom_id=body["bottom_id"], pod_id=pod.pod_id,
                    resource_type=body["resource_type"], project_id=body["project_id"])
                session.add(row)
                session.flush()
                if body["resource_type"] == "network":
                    # The region may need shadows of ports bound elsewhere.
                    self.runner.enqueue(session, jobs.SHADOW_PORT_SETUP, body["top_id"],
                                        body["project_id"])
            return self._view(session, row)
        return self.db.run(work)

    @staticmethod
    def _pod(session: Session, body: dict[str, Any]) -> Pod:
        if body.get("pod_id"):
            return _load(session, Pod, "Pod", body["pod_id"])
        name = body.get("region_name")
        if not name:
            raise errors.BadRequest("Failed to parse request. Required attribute 'pod_id' "
                                    "or 'region_name' not specified")
        pod = session.scalar(sa.select(Pod).where(Pod.region_name == name))
        if pod is None:
            raise errors.invalid_input("region_name", f"no pod is region {name}")
        return pod

    def update(self, routing_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.get(routing_id)   # nothing of a routing may change

    def delete(self, routing_id: str) -> None:
        def work(session: Session) -> None:
            session.delete(_load(session, ResourceRouting, "Routing", routing_id))
        self.db.run(work)


class JobService:
    def __init__(self, db: Database, runner: jobs.JobRunner):
        self.db = db
        self.runner = runner

    def list(self) -> list[dict[str, Any]]:
        return self.db.run(lambda session: [job_dict(job) for job in session.scalars(
            sa.select(AsyncJob).order_by(AsyncJob.created_at))])

    def get(self, job_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: job_dict(
            _load(session, AsyncJob, "Job", job_id)))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.db.run(lambda session: job_dict(self.runner.enqueue(
            session, body["type"], body["resource_id"], body["project_id"])))

    def update(self, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run a failed job again (the body names nothing: ``{"job": {}}``)."""
        def work(session: Session) -> dict[str, Any]:
            job = _load(session, AsyncJob, "Job", job_id)
            self.runner.redo(session, job)
            return job_dict(job)
        return self.db.run(work)

    def delete(self, job_id: str) -> None:
        def work(session: Session) -> None:
            job = _load(session, AsyncJob, "Job", job_id)
            if job.status == jobs.RUNNING:
                raise errors.Conflict(f"Job {job_id} is running", "JobRunning")
            session.delete(job)
        self.db.run(work)
