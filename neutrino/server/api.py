"""The Neutron v2.0 API: its routes, the version document and the resource index."""

from __future__ import annotations

from typing import Any

from neutrino.server import agents, attributes, networks, ports, subnets
from neutrino.server.controller import ResourceController
from neutrino.server.router import Request, Response, Router

VERSION = "v2.0"

# Neutron extension aliases whose attributes this server implements.
EXTENSIONS = (
    ("agent", "agent", "The agents table: list, show, update and delete agents."),
    ("binding", "Port Binding", "binding:* attributes of ports."),
    ("external-net", "Neutron external network", "router:external attribute of networks."),
    ("provider", "Provider Network", "provider:* attributes of networks."),
)


def version_document(request: Request) -> Response:
    return Response(200, {"versions": [{
        "id": VERSION, "status": "CURRENT",
        "links": [{"href": f"{request.base_url}/{VERSION}/", "rel": "self"}],
    }]})


def _resource_index(controllers: list[ResourceController]) -> Any:
    def index(request: Request) -> Response:
        return Response(200, {"resources": [{
            "name": controller.resource, "collection": controller.collection,
            "links": [{"href": f"{request.base_url}/{VERSION}/{controller.collection}",
                       "rel": "self"}],
        } for controller in controllers]})
    return index


def extensions(request: Request) -> Response:
    return Response(200, {"extensions": [
        {"alias": alias, "name": name, "description": description, "links": []}
        for alias, name, description in EXTENSIONS]})


def build_router(network_service: networks.NetworkService,
                 subnet_service: subnets.SubnetService,
                 port_service: ports.PortService,
                 agent_service: agents.AgentService) -> Router:
    controllers = [
        ResourceController("network", "networks", network_service,
                           attributes.NETWORK, networks.FIELDS),
        ResourceController("subnet", "subnets", subnet_service,
                           attributes.SUBNET, subnets.FIELDS),
        ResourceController("port", "ports", port_service, attributes.PORT, ports.FIELDS),
        ResourceController("agent", "agents", agent_service, attributes.AGENT,
                           agents.FIELDS, allow_create=False),
    ]
    router = Router()
    router.add("GET", "/", version_document)
    router.add("GET", f"/{VERSION}", _resource_index(controllers))
    router.add("GET", f"/{VERSION}/extensions", extensions)
    for controller in controllers:
        controller.register(router, f"/{VERSION}")
    return router
