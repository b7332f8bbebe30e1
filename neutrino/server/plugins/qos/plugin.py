"""The QoS service plugin, with Neutron's API: /qos/policies, their rules, /qos/rule-types.

Policies and rules are its own resources (rules nested under their policy,
one collection per rule type); ``qos_policy_id`` joins ports and networks
as a resource extension.  The OVS agent's QoS extension asks for a port's
rules over RPC and hears of changed ones as ``qos_ports_updated``.  Its API
extension descriptors are in its own ``extensions/`` folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from neutrino.server.plugins.base import CorePlugin, PluginContext, Resource, ServicePlugin
from neutrino.server.plugins.qos import policies
from neutrino.server.plugins.qos import rules as qos_rules
from neutrino.server.plugins.qos.notify import QosAgentNotifier
from neutrino.server.plugins.qos.ports import QosPolicyExtension
from neutrino.server.plugins.qos.rpc import QosRpcEndpoint

PREFIX = "/v2.0/qos"


class QosPlugin(ServicePlugin):
    supported_extension_aliases: ClassVar[tuple[str, ...]] = (
        "qos", "qos-bw-limit-direction", "qos-bw-minimum-ingress", "qos-default",
        "qos-port-network-policy", "qos-pps", "qos-rule-type-details")

    def __init__(self, context: PluginContext, core: CorePlugin):
        super().__init__(context, core)
        self.notifier = QosAgentNotifier(context.notifier)
        self.policies = policies.PolicyService(context.db)
        self.rules = {kind.type: policies.RuleService(context.db, kind, self.notifier)
                      for kind in qos_rules.RULE_TYPES.values()}
        self.rpc = QosRpcEndpoint(context.db)
        core.add_resource_extension(QosPolicyExtension(self.notifier))

    def resources(self) -> Sequence[Resource]:
        return (
            Resource("policy", "policies", policies.POLICY, self.policies, prefix=PREFIX),
            Resource("rule_type", "rule-types", qos_rules.RULE_TYPE, policies.RuleTypeService(),
                     allow_create=False, prefix=PREFIX),
            *(Resource(kind.resource, kind.collection, kind.attributes(), self.rules[kind.type],
                       prefix=PREFIX + "/policies/{policy_id}")
              for kind in qos_rules.RULE_TYPES.values()),
        )

    def rpc_endpoints(self) -> Sequence[object]:
        return (self.rpc,)
