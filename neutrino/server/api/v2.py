"""The Neutron v2.0 API: its routes, the version document and the resource index."""

from __future__ import annotations

from typing import Any

from neutrino.server.api.controller import ResourceController
from neutrino.server.api.urlmap import Request, Response, Router
from neutrino.server.lib import attributes, errors
from neutrino.server.plugins.dhcp import hosting as dhcp_networks
from neutrino.server.plugins.l3 import floating_ips, router_interfaces, routers
from neutrino.server.plugins.ml2 import agents, networks, ports, subnets

VERSION = "v2.0"

# Neutron extension aliases whose attributes this server implements.
EXTENSIONS = (
    ("agent", "agent", "The agents table: list, show, update and delete agents."),
    ("binding", "Port Binding", "binding:* attributes of ports."),
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler",
     "Which DHCP agents serve a network: /networks/{id}/dhcp-agents, "
     "/agents/{id}/dhcp-networks."),
    ("external-net", "Neutron external network", "router:external attribute of networks."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "enable_snat in a router's external_gateway_info."),
    ("l3_agent_scheduler", "L3 Agent Scheduler",
     "Which L3 agent hosts a router: /routers/{id}/l3-agents, /agents/{id}/l3-routers."),
    ("provider", "Provider Network", "provider:* attributes of networks."),
    ("router", "Neutron L3 Router", "Routers, their interfaces and gateways; floating IPs."),
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


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {"alias": alias, "name": name, "description": description, "links": []}


def extensions(request: Request) -> Response:
    return Response(200, {"extensions": [_extension(*entry) for entry in EXTENSIONS]})


def extension(request: Request) -> Response:
    """One extension by alias: clients probe for a feature this way, and a 404
    tells them the server lacks it."""
    alias = request.params["alias"]
    for entry in EXTENSIONS:
        if entry[0] == alias:
            return Response(200, {"extension": _extension(*entry)})
    raise errors.NotFound(f"Extension with alias {alias} does not exist",
                          "ExtensionNotFound")


def _l3_routes(url_router: Router, router_service: routers.RouterService,
               interfaces: router_interfaces.RouterInterfaces) -> None:
    """The router actions and the L3 agent scheduler's views, beyond plain CRUD."""
    def add_interface(request: Request) -> Response:
        return Response(200, interfaces.add(request.params["id"], request.body))

    def remove_interface(request: Request) -> Response:
        return Response(200, interfaces.remove(request.params["id"], request.body))

    def l3_agents(request: Request) -> Response:
        return Response(200, {"agents": router_service.l3_agents(request.params["id"])})

    def l3_routers(request: Request) -> Response:
        return Response(200, {"routers": router_service.on_agent(request.params["id"])})

    base = f"/{VERSION}"
    url_router.add("PUT", base + "/routers/{id}/add_router_interface", add_interface)
    url_router.add("PUT", base + "/routers/{id}/remove_router_interface", remove_interface)
    url_router.add("GET", base + "/routers/{id}/l3-agents", l3_agents)
    url_router.add("GET", base + "/agents/{id}/l3-routers", l3_routers)


def _dhcp_routes(url_router: Router, hosting: dhcp_networks.DhcpNetworks) -> None:
    """The DHCP agent scheduler's views, and scheduling by hand."""
    def dhcp_agents(request: Request) -> Response:
        return Response(200, {"agents": hosting.dhcp_agents(request.params["id"])})

    def dhcp_networks_of(request: Request) -> Response:
        return Response(200, {"networks": hosting.on_agent(request.params["id"])})

    def add_network(request: Request) -> Response:
        hosting.add(request.params["id"], request.body)
        return Response(201)

    def remove_network(request: Request) -> Response:
        hosting.remove(request.params["id"], request.params["network_id"])
        return Response(204)

    base = f"/{VERSION}"
    url_router.add("GET", base + "/networks/{id}/dhcp-agents", dhcp_agents)
    url_router.add("GET", base + "/agents/{id}/dhcp-networks", dhcp_networks_of)
    url_router.add("POST", base + "/agents/{id}/dhcp-networks", add_network)
    url_router.add("DELETE", base + "/agents/{id}/dhcp-networks/{network_id}", remove_network)


def build_router(network_service: networks.NetworkService,
                 subnet_service: subnets.SubnetService,
                 port_service: ports.PortService,
                 agent_service: agents.AgentService,
                 router_service: routers.RouterService,
                 interfaces: router_interfaces.RouterInterfaces,
                 floating_ip_service: floating_ips.FloatingIpService,
                 dhcp_hosting: dhcp_networks.DhcpNetworks) -> Router:
    controllers = [
        ResourceController("network", "networks", network_service,
                           attributes.NETWORK, networks.FIELDS),
        ResourceController("subnet", "subnets", subnet_service,
                           attributes.SUBNET, subnets.FIELDS),
        ResourceController("port", "ports", port_service, attributes.PORT, ports.FIELDS),
        ResourceController("agent", "agents", agent_service, attributes.AGENT,
                           agents.FIELDS, allow_create=False),
        ResourceController("router", "routers", router_service, attributes.ROUTER,
                           routers.FIELDS),
        ResourceController("floatingip", "floatingips", floating_ip_service,
                           attributes.FLOATINGIP, floating_ips.FIELDS),
    ]
    router = Router()
    router.add("GET", "/", version_document)
    router.add("GET", f"/{VERSION}", _resource_index(controllers))
    router.add("GET", f"/{VERSION}/extensions", extensions)
    router.add("GET", f"/{VERSION}/extensions/{{alias}}", extension)
    for controller in controllers:
        controller.register(router, f"/{VERSION}")
    _l3_routes(router, router_service, interfaces)
    _dhcp_routes(router, dhcp_hosting)
    return router
