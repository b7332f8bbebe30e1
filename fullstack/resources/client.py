"""A client of the Neutron v2.0 API, and a fixture that cleans up after it.

The harness talks to the server over HTTP only, as it would to any
Neutron-compatible service.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import fixtures


class ApiError(Exception):
    """The API answered with an error status (Neutron error body parsed)."""

    def __init__(self, method: str, path: str, status: int, body: bytes):
        self.status = status
        self.type = ""
        self.message = body.decode(errors="replace")
        try:
            error = json.loads(body)["NeutronError"]
            self.type, self.message = error["type"], error["message"]
        except (ValueError, KeyError, TypeError):
            pass
        super().__init__(f"{method} {path} -> {status} {self.type}: {self.message}")


# Resources whose collection is not named by their singular plus "s"; their
# bodies keep the underscores ({"security_group": ...}, {"security_groups": [...]}).
COLLECTIONS = {"security_group": "security-groups",
               "security_group_rule": "security-group-rules"}


QOS = "/v2.0/qos"


def collection(resource: str) -> str:
    """The URL path segment of ``resource``'s collection ("network": "networks")."""
    return COLLECTIONS.get(resource, f"{resource}s")


class ApiClient:
    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(method, path, exc.code, exc.read()) from None
        return json.loads(payload) if payload else None

    # Generic resource verbs; ``resource`` is singular ("network").
    def create(self, resource: str, **attrs: Any) -> dict:
        return self.request("POST", f"/v2.0/{collection(resource)}", {resource: attrs})[resource]

    def show(self, resource: str, resource_id: str) -> dict:
        return self.request("GET", f"/v2.0/{collection(resource)}/{resource_id}")[resource]

    def update(self, resource: str, resource_id: str, **attrs: Any) -> dict:
        return self.request("PUT", f"/v2.0/{collection(resource)}/{resource_id}",
                            {resource: attrs})[resource]

    def delete(self, resource: str, resource_id: str) -> None:
        self.request("DELETE", f"/v2.0/{collection(resource)}/{resource_id}")

    def list_of(self, resource: str, **filters: Any) -> list[dict]:
        query = "?" + urllib.parse.urlencode(filters, doseq=True) if filters else ""
        return self.request("GET", f"/v2.0/{collection(resource)}{query}")[f"{resource}s"]

    def add_router_interface(self, router_id: str, subnet_id: str | None = None,
                             port_id: str | None = None) -> dict:
        body = {"subnet_id": subnet_id} if subnet_id else {"port_id": port_id}
        return self.request("PUT", f"/v2.0/routers/{router_id}/add_router_interface", body)

    def remove_router_interface(self, router_id: str, subnet_id: str | None = None,
                                port_id: str | None = None) -> dict:
        body = {"subnet_id": subnet_id} if subnet_id else {"port_id": port_id}
        return self.request("PUT", f"/v2.0/routers/{router_id}/remove_router_interface", body)

    def list_agents(self, **filters: Any) -> list[dict]:
        return self.list_of("agent", **filters)

    def list_networks(self, **filters: Any) -> list[dict]:
        return self.list_of("network", **filters)

    def list_subnets(self, **filters: Any) -> list[dict]:
        return self.list_of("subnet", **filters)

    def list_ports(self, **filters: Any) -> list[dict]:
        return self.list_of("port", **filters)


class SafeClient(fixtures.Fixture):
    """Creates resources through the API and deletes them at cleanup.

    Cleanup goes in reverse order of creation, except that security groups
    go last of all: a group in use by a port cannot be deleted, and a port
    may have been given a group created after it.
    """

    def __init__(self, client: ApiClient):
        super().__init__()
        self.client = client
        self.security_groups: list[str] = []   # ids, in order of creation

    def _setUp(self) -> None:
        self.addCleanup(self._delete_security_groups)

    def _create(self, resource: str, **attrs: Any) -> dict:
        created = self.client.create(resource, **attrs)
        self.addCleanup(self._delete_quietly, resource, created["id"])
        return created

    def _delete_quietly(self, resource: str, resource_id: str) -> None:
        try:
            self.client.delete(resource, resource_id)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def create_network(self, tenant_id: str, name: str | None = None, **attrs: Any) -> dict:
        return self._create("network", tenant_id=tenant_id, name=name or "net", **attrs)

    def update_network(self, network_id: str, **attrs: Any) -> dict:
        return self.client.update("network", network_id, **attrs)

    def create_subnet(self, tenant_id: str, network_id: str, cidr: str,
                      gateway_ip: str | None = None, name: str | None = None,
                      enable_dhcp: bool = False, **attrs: Any) -> dict:
        if gateway_ip is not None:
            attrs["gateway_ip"] = gateway_ip
        return self._create("subnet", tenant_id=tenant_id, network_id=network_id, cidr=cidr,
                            ip_version=4, name=name or "subnet", enable_dhcp=enable_dhcp,
                            **attrs)

    def create_port(self, tenant_id: str, network_id: str, hostname: str | None = None,
                    security_groups: list[str] | None = None,
                    port_security_enabled: bool | None = None, **attrs: Any) -> dict:
        """A port (bound to ``hostname`` if given); the server's defaults for what is None."""
        if hostname is not None:
            attrs["binding:host_id"] = hostname
        if security_groups is not None:
            attrs["security_groups"] = security_groups
        if port_security_enabled is not None:
            attrs["port_security_enabled"] = port_security_enabled
        return self._create("port", tenant_id=tenant_id, network_id=network_id, **attrs)

    def update_port(self, port_id: str, **attrs: Any) -> dict:
        return self.client.update("port", port_id, **attrs)

    def create_security_group(self, tenant_id: str, name: str | None = None,
                              **attrs: Any) -> dict:
        """A group; deleted at cleanup after everything else, the ports using it included."""
        created = self.client.create("security_group", tenant_id=tenant_id, name=name or "sg",
                                     **attrs)
        self.security_groups.append(created["id"])
        return created

    def create_security_group_rule(
            self, tenant_id: str, security_group_id: str, direction: str = "ingress",
            ethertype: str = "IPv4", protocol: str | None = None,
            port_range_min: int | None = None, port_range_max: int | None = None,
            remote_ip_prefix: str | None = None, remote_group_id: str | None = None,
            **attrs: Any) -> dict:
        """A rule of ``security_group_id``; the fields left None are not sent."""
        optional = {"protocol": protocol, "port_range_min": port_range_min,
                    "port_range_max": port_range_max, "remote_ip_prefix": remote_ip_prefix,
                    "remote_group_id": remote_group_id}
        attrs.update({key: value for key, value in optional.items() if value is not None})
        # Quietly gone at cleanup if the test deleted its group (which takes its rules).
        return self._create("security_group_rule", tenant_id=tenant_id,
                            security_group_id=security_group_id, direction=direction,
                            ethertype=ethertype, **attrs)

    def delete_security_group_rule(self, rule_id: str) -> None:
        self.client.delete("security_group_rule", rule_id)

    def delete_security_group(self, sg_id: str) -> None:
        self.client.delete("security_group", sg_id)

    def _delete_security_groups(self) -> None:
        for sg_id in reversed(self.security_groups):
            self._delete_quietly("security_group", sg_id)

    def create_router(self, tenant_id: str, external_network: str | None = None,
                      name: str | None = None, **attrs: Any) -> dict:
        if external_network:
            attrs["external_gateway_info"] = {"network_id": external_network}
        return self._create("router", tenant_id=tenant_id, name=name or "router", **attrs)

    def add_router_interface(self, router_id: str, subnet_id: str) -> dict:
        """Attach a subnet; detached again at cleanup (unless already gone)."""
        result = self.client.add_router_interface(router_id, subnet_id=subnet_id)
        self.addCleanup(self._detach_quietly, router_id, subnet_id)
        return result

    def _detach_quietly(self, router_id: str, subnet_id: str) -> None:
        try:
            self.client.remove_router_interface(router_id, subnet_id=subnet_id)
        except ApiError as exc:
            if exc.status not in (400, 404):
                raise

    def create_floatingip(self, tenant_id: str, network_id: str,
                          port_id: str | None = None, **attrs: Any) -> dict:
        if port_id:
            attrs["port_id"] = port_id
        return self._create("floatingip", tenant_id=tenant_id, floating_network_id=network_id,
                            **attrs)

    def update_floatingip(self, fip_id: str, port_id: str | None) -> dict:
        return self.client.update("floatingip", fip_id, port_id=port_id)

    # QoS, with the signatures of Neutron's fullstack client fixture.
    def create_qos_policy(self, tenant_id: str, name: str, description: str = "",
                          shared: bool = False, is_default: bool = False) -> dict:
        """A policy; at cleanup taken off the ports and networks that have it, then deleted."""
        policy = self.client.request("POST", f"{QOS}/policies", {"policy": {
            "tenant_id": tenant_id, "name": name, "description": description,
            "shared": shared, "is_default": is_default}})["policy"]
        self.addCleanup(self._detach_and_delete_policy, policy["id"])
        return policy

    def delete_qos_policy(self, qos_policy_id: str) -> None:
        self.client.request("DELETE", f"{QOS}/policies/{qos_policy_id}")

    def _detach_and_delete_policy(self, qos_policy_id: str) -> None:
        for resource in ("port", "network"):
            # Neutron cannot filter by qos_policy_id: every item, looked at here.
            for item in self.client.list_of(resource):
                if item.get("qos_policy_id") == qos_policy_id:
                    self.client.update(resource, item["id"], qos_policy_id=None)
        self._delete_path_quietly(f"{QOS}/policies/{qos_policy_id}")

    def _delete_path_quietly(self, path: str) -> None:
        try:
            self.client.request("DELETE", path)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def _create_qos_rule(self, qos_policy_id: str, rule_type: str,
                         values: dict[str, Any]) -> dict:
        path = f"{QOS}/policies/{qos_policy_id}/{rule_type}_rules"
        rule = self.client.request("POST", path, {f"{rule_type}_rule": {
            key: value for key, value in values.items() if value is not None}})
        created = rule[f"{rule_type}_rule"]
        # Quietly gone at cleanup if its policy went first (which takes its rules).
        self.addCleanup(self._delete_path_quietly, f"{path}/{created['id']}")
        return created

    def create_bandwidth_limit_rule(self, qos_policy_id: str, limit: int | None = None,
                                    burst: int | None = None,
                                    direction: str | None = None) -> dict:
        """``limit`` and ``burst`` in kbit/s; ``direction`` egress (the default) or ingress."""
        return self._create_qos_rule(qos_policy_id, "bandwidth_limit", {
            "max_kbps": limit, "max_burst_kbps": burst, "direction": direction})

    def create_packet_rate_limit_rule(self, qos_policy_id: str, limit: int | None = None,
                                      burst: int | None = None,
                                      direction: str | None = None) -> dict:
        """``limit`` and ``burst`` in thousands of packets per second."""
        return self._create_qos_rule(qos_policy_id, "packet_rate_limit", {
            "max_kpps": limit, "max_burst_kpps": burst, "direction": direction})

    def create_dscp_marking_rule(self, qos_policy_id: str, dscp_mark: int = 0) -> dict:
        return self._create_qos_rule(qos_policy_id, "dscp_marking", {"dscp_mark": dscp_mark})

    def create_minimum_bandwidth_rule(self, qos_policy_id: str, min_bw: int,
                                      direction: str | None = None) -> dict:
        return self._create_qos_rule(qos_policy_id, "minimum_bandwidth", {
            "min_kbps": min_bw, "direction": direction})

    def update_qos_rule(self, qos_policy_id: str, rule_type: str, rule_id: str,
                        **values: Any) -> dict:
        """Change a rule of ``rule_type`` ("bandwidth_limit", "dscp_marking", ...)."""
        return self.client.request(
            "PUT", f"{QOS}/policies/{qos_policy_id}/{rule_type}_rules/{rule_id}",
            {f"{rule_type}_rule": values})[f"{rule_type}_rule"]

    def delete_qos_rule(self, qos_policy_id: str, rule_type: str, rule_id: str) -> None:
        self.client.request("DELETE",
                            f"{QOS}/policies/{qos_policy_id}/{rule_type}_rules/{rule_id}")
