"""The Neutron v2.0 API, assembled from the loaded plugins and extensions.

Each plugin's resources become collections (list, show, create, update,
delete), its member actions and sub-collections become routes beside them,
and ``/v2.0/extensions`` lists the extensions the extension manager kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.server.api.controller import ResourceController
from neutrino.server.api.extension_manager import ExtensionManager
from neutrino.server.api.urlmap import Handler, Request, Response, UrlMap
from neutrino.server.lib import errors
from neutrino.server.plugins.base import MemberAction, Plugin, SubCollection

VERSION = "v2.0"
BASE = f"/{VERSION}"


def version_document(request: Request) -> Response:
    return Response(200, {"versions": [{
        "id": VERSION, "status": "CURRENT",
        "links": [{"href": f"{request.base_url}/{VERSION}/", "rel": "self"}],
    }]})


def _resource_index(controllers: list[ResourceController]) -> Handler:
    def index(request: Request) -> Response:
        return Response(200, {"resources": [{
            "name": controller.resource, "collection": controller.collection,
            "links": [{"href": f"{request.base_url}/{VERSION}/{controller.collection}",
                       "rel": "self"}],
        } for controller in controllers]})
    return index


def _extension_routes(urls: UrlMap, extensions: ExtensionManager) -> None:
    def listing(request: Request) -> Response:
        return Response(200, {"extensions": [d.api_view() for d in extensions.loaded]})

    def one(request: Request) -> Response:
        """Clients probe for a feature this way; a 404 tells them the server lacks it."""
        alias = request.params["alias"]
        descriptor = extensions.descriptor(alias)
        if descriptor is None:
            raise errors.NotFound(f"Extension with alias {alias} does not exist",
                                  "ExtensionNotFound")
        return Response(200, {"extension": descriptor.api_view()})

    urls.add("GET", f"{BASE}/extensions", listing)
    urls.add("GET", BASE + "/extensions/{alias}", one)


def _member_action(urls: UrlMap, action: MemberAction) -> None:
    def handle(request: Request) -> Response:
        return Response(200, action.handler(request.params["id"], request.body))

    urls.add("PUT", f"{BASE}/{action.collection}/{{id}}/{action.name}", handle)


def _sub_collection(urls: UrlMap, sub: SubCollection) -> None:
    base = f"{BASE}/{sub.parent}/{{id}}/{sub.name}"

    def listing(request: Request) -> Response:
        return Response(200, {sub.key: sub.list_items(request.params["id"])})

    urls.add("GET", base, listing)
    if sub.add is not None:
        add = sub.add

        def adding(request: Request) -> Response:
            add(request.params["id"], request.body)
            return Response(201)
        urls.add("POST", base, adding)
    if sub.remove is not None:
        remove = sub.remove

        def removing(request: Request) -> Response:
            remove(request.params["id"], request.params["child_id"])
            return Response(204)
        urls.add("DELETE", base + "/{child_id}", removing)


def build_urls(plugins: Iterable[Plugin], extensions: ExtensionManager) -> UrlMap:
    plugins = list(plugins)
    routed = [
        (resource.prefix, ResourceController(
            resource.name, resource.collection, resource.service,
            extensions.attribute_maps[resource.name], resource.allow_create))
        for plugin in plugins for resource in plugin.resources()]
    urls = UrlMap()
    urls.add("GET", "/", version_document)
    urls.add("GET", BASE, _resource_index(
        [controller for prefix, controller in routed if prefix == BASE]))
    _extension_routes(urls, extensions)
    for prefix, controller in routed:
        controller.register(urls, prefix)
    for plugin in plugins:
        for action in plugin.member_actions():
            _member_action(urls, action)
        for sub in plugin.sub_collections():
            _sub_collection(urls, sub)
    return urls
