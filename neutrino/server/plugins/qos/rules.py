"""The QoS rule types: what each rule holds, how it is checked and shown.

The four types the OVS agent enforces, with Neutron's names, attributes and
bounds.  A rule type not here (``minimum_packet_rate``, say) has no
collection: the API answers 404 for it, as Neutron does for a type no
loaded driver supports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes, read_only
from neutrino.server.plugins.qos import models as qos_models

INT_MAX = 2**31 - 1
DIRECTIONS = ("egress", "ingress")
# The DSCP values Neutron accepts (RFC 2474 and 4594 code points).
VALID_DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40,
                    46, 48, 56)
DRIVER = "openvswitch"


def _ranged(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = v.integer(value)
        if not low <= number <= high:
            raise ValueError(f"{number} is not in range {low} through {high}")
        return number
    return convert


def _dscp(value: Any) -> int:
    mark = v.integer(value)
    if mark not in VALID_DSCP_MARKS:
        raise ValueError(f"{mark} is not a valid DSCP mark; valid marks are "
                         f"{', '.join(map(str, VALID_DSCP_MARKS))}")
    return mark


@dataclasses.dataclass(frozen=True)
class RuleType:
    """One type of rule: its API names and its value attributes."""

    type: str                       # bandwidth_limit
    values: tuple[Attribute, ...]   # what a body gives beside the direction
    directional: bool = True

    @property
    def resource(self) -> str:
        return f"{self.type}_rule"

    @property
    def collection(self) -> str:
        return f"{self.type}_rules"

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.values) + (("direction",) if self.directional else ())

    def attributes(self) -> ResourceAttributes:
        direction = ((Attribute("direction", v.one_of(*DIRECTIONS), "egress"),)
                     if self.directional else ())
        return ResourceAttributes(self.resource, (Attribute("id"), *self.values, *direction))

    def supported_parameters(self) -> list[dict[str, Any]]:
        """What GET /qos/rule-types/{type} says the driver takes."""
        found: list[dict[str, Any]] = []
        for name in self.fields:
            if name == "direction":
                found.append({"parameter_name": name, "parameter_type": "choices",
                              "parameter_values": list(DIRECTIONS)})
            elif name == "dscp_mark":
                found.append({"parameter_name": name, "parameter_type": "choices",
                              "parameter_values": list(VALID_DSCP_MARKS)})
            else:
                found.append({"parameter_name": name, "parameter_type": "range",
                              "parameter_values": {"start": 0, "end": INT_MAX}})
        return found


_RANGE = _ranged(0, INT_MAX)
RULE_TYPES: dict[str, RuleType] = {t.type: t for t in (
    RuleType("bandwidth_limit", (Attribute("max_kbps", _RANGE, REQUIRED),
                                 Attribute("max_burst_kbps", _RANGE, 0))),
    RuleType("packet_rate_limit", (Attribute("max_kpps", _RANGE, REQUIRED),
                                   Attribute("max_burst_kpps", _RANGE, 0))),
    RuleType("dscp_marking", (Attribute("dscp_mark", _dscp, REQUIRED),), directional=False),
    RuleType("minimum_bandwidth", (Attribute("min_kbps", _RANGE, REQUIRED),)),
)}

RULE_TYPE = ResourceAttributes("rule_type", (*read_only("type", "drivers"),))


def rule_dict(rule: qos_models.QosRule) -> dict[str, Any]:
    """A rule as its own collection shows it: its id and its type's fields."""
    kind = RULE_TYPES[rule.type]
    return {"id": rule.id, **{name: getattr(rule, name) for name in kind.fields}}


def rule_in_policy(rule: qos_models.QosRule) -> dict[str, Any]:
    """A rule as its policy's ``rules`` lists it (and agents get it)."""
    return {**rule_dict(rule), "type": rule.type, "qos_policy_id": rule.policy_id}


def rule_type_dict(kind: RuleType, details: bool) -> dict[str, Any]:
    if not details:
        return {"type": kind.type}
    return {"type": kind.type, "drivers": [
        {"name": DRIVER, "supported_parameters": kind.supported_parameters()}]}
