"""The security group service plugin: security-group, port-security, stateful-security-group.

Groups and rules are its own resources; ``security_groups`` and
``port_security_enabled`` of ports (and the latter of networks) join the
core resources as a resource extension.  What agents must hear of a
port's membership they learn from the core plugin's port events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from neutrino.server.lib import events
from neutrino.server.plugins.base import CorePlugin, PluginContext, Resource, ServicePlugin
from neutrino.server.plugins.securitygroup.groups import (
    SECURITY_GROUP,
    SecurityGroupRuleService,
    SecurityGroupService,
)
from neutrino.server.plugins.securitygroup.notify import SecurityGroupAgentNotifier
from neutrino.server.plugins.securitygroup.ports import SECURITY_GROUPS, PortSecurityExtension
from neutrino.server.plugins.securitygroup.rpc import SecurityGroupRpcEndpoint
from neutrino.server.plugins.securitygroup.rules import SECURITY_GROUP_RULE


def _members(state: dict[str, Any]) -> set[str]:
    """The groups a port is a member of (as Neutron, whether it has an address or not)."""
    return set(state.get(SECURITY_GROUPS) or ())


class SecurityGroupPlugin(ServicePlugin):
    supported_extension_aliases: ClassVar[tuple[str, ...]] = (
        "security-group", "port-security", "stateful-security-group")

    def __init__(self, context: PluginContext, core: CorePlugin):
        super().__init__(context, core)
        self.notifier = SecurityGroupAgentNotifier(context.notifier)
        self.groups = SecurityGroupService(context.db, self.notifier)
        self.rules = SecurityGroupRuleService(context.db, self.notifier)
        self.rpc = SecurityGroupRpcEndpoint(context.db)
        core.add_resource_extension(PortSecurityExtension())
        registry = context.events
        for event in (events.AFTER_CREATE, events.AFTER_UPDATE, events.AFTER_DELETE):
            registry.subscribe(self._tell_of_members, events.PORT, event)

    def resources(self) -> Sequence[Resource]:
        return (Resource("security_group", "security-groups", SECURITY_GROUP, self.groups),
                Resource("security_group_rule", "security-group-rules", SECURITY_GROUP_RULE,
                         self.rules))

    def rpc_endpoints(self) -> Sequence[object]:
        return (self.rpc,)

    def _tell_of_members(self, payload: events.Payload) -> None:
        """A port joined or left groups, or its addresses changed: rules naming
        those groups as their remote filter anew."""
        if len(payload.states) == 2:
            before, after = payload.states
            if (before.get(SECURITY_GROUPS) == after.get(SECURITY_GROUPS)
                    and before.get("fixed_ips") == after.get("fixed_ips")):
                return
            changed = _members(before) | _members(after)
        else:
            changed = _members(payload.states[0])
        self.notifier.member_updated(sorted(changed))
