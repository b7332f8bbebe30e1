"""What a port's QoS rules become on the bridges: meters, flows and queue settings.

Pure functions of a port and its rules (unit-tested), for the QoS agent
extension (``qos``) to apply.  Measured on the userspace datapath, what
holds and what does not decides the means:

- from the machine (egress): bandwidth and packet rate through OpenFlow
  meters on what the port sends (``ingress_policing_rate`` is written but
  not enforced by the userspace datapath);
- toward the machine (ingress): bandwidth through a linux-htb queue on the
  port (tc on its veth), packet rate through a meter on what br-int switches
  to the port's MAC;
- DSCP: ``mod_nw_tos`` on what the port sends (IPv4 and IPv6);
- minimum bandwidth: a Queue with ``min-rate`` and the packet's mark as
  Neutron writes them, on the physical bridges' own ports.  The userspace
  datapath ignores ``set_queue``: it is written, not enforced.

Each step runs once per packet: a table-0 flow matches the port and a bit of
reg2 still clear, does its part, sets the bit and resubmits to the same
table, where the next step (or the agent's own flows) takes the packet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from neutrino.agents.ovs.physical_flows import SWITCH_TABLE

# One bit of reg2 per step; the priorities keep the steps apart and above
# every flow of the agent's own (dead ports 2, the firewall 10, 100 in table 60).
EGRESS_BANDWIDTH = (0x1, 204)
EGRESS_PACKET_RATE = (0x2, 203)
DSCP = (0x4, 202)
MINIMUM_BANDWIDTH = (0x8, 201)
INGRESS_PACKET_RATE = (0x10, 200)
# Meter ids: four per OpenFlow port, so a port's meters are known after a restart.
METER_SLOTS = {"egress-bandwidth": 1, "egress-packet-rate": 2, "ingress-packet-rate": 3}
# What Neutron gives a queue's and a QoS's max-rate when only a minimum is asked (bit/s).
OVS_MAX_RATE = 2**35 - 1
INGRESS_QUEUE_KEY = "neutrino-ingress-limit"   # Queue/QoS external_ids: the port's id
MIN_BW_QOS_TYPE = "minimum_bandwidth"          # Neutron's external_ids values


@dataclasses.dataclass(frozen=True)
class Meter:
    meter_id: int
    unit: str       # kbps or pktps
    rate: int
    burst: int      # 0: the datapath's default

    def spec(self) -> str:
        burst = ",burst" if self.burst else ""
        size = f",burst_size={self.burst}" if self.burst else ""
        return f"meter={self.meter_id},{self.unit}{burst},bands=type=drop,rate={self.rate}{size}"


@dataclasses.dataclass(frozen=True)
class PortQos:
    """What a port's rules ask of the bridges."""

    meters: tuple[Meter, ...] = ()
    int_flows: tuple[str, ...] = ()        # br-int
    phys_flows: tuple[str, ...] = ()       # each physical bridge
    ingress_limit: tuple[int, int] | None = None   # (max-rate, burst) in bit/s, bits
    min_rate: int | None = None            # bit/s

    @property
    def empty(self) -> bool:
        return self == PortQos()


def meter_id(ofport: int, slot: str) -> int:
    return ofport * 4 + METER_SLOTS[slot]


def _rule(rules: Iterable[dict[str, Any]], kind: str, direction: str = "egress"
          ) -> dict[str, Any] | None:
    return next((rule for rule in rules if rule["type"] == kind
                 and rule.get("direction", "egress") == direction), None)


def _step(table: int, step: tuple[int, int], match: str, actions: str) -> str:
    bit, priority = step
    index = bit.bit_length() - 1
    return (f"table={table},priority={priority},{match},reg2=0/{bit:#x},"
            f"actions={actions},load:1->NXM_NX_REG2[{index}],resubmit(,{table})")


def port_qos(ofport: int, mac: str, rules: list[dict[str, Any]],
             physical: bool) -> PortQos:
    """What ``rules`` (the server's, as qos_rules_for_ports gives them) ask for the
    port at ``ofport`` with ``mac``; ``physical``: its network is VLAN or flat."""
    meters: list[Meter] = []
    int_flows: list[str] = []
    phys_flows: list[str] = []
    in_port = f"in_port={ofport}"

    def meter(slot: str, unit: str, rate: int, burst: int) -> str:
        meters.append(Meter(meter_id(ofport, slot), unit, rate, burst))
        return f"meter:{meter_id(ofport, slot)}"

    limit = _rule(rules, "bandwidth_limit")
    if limit:
        int_flows.append(_step(0, EGRESS_BANDWIDTH, in_port, meter(
            "egress-bandwidth", "kbps", limit["max_kbps"], limit["max_burst_kbps"] or 0)))
    pps = _rule(rules, "packet_rate_limit")
    if pps:
        int_flows.append(_step(0, EGRESS_PACKET_RATE, in_port, meter(
            "egress-packet-rate", "pktps", pps["max_kpps"] * 1000,
            (pps["max_burst_kpps"] or 0) * 1000)))
    dscp = _rule(rules, "dscp_marking")
    if dscp:
        tos = f"mod_nw_tos:{dscp['dscp_mark'] << 2}"
        int_flows += [_step(0, DSCP, f"{in_port},{family}", tos) for family in ("ip", "ipv6")]
    pps_in = _rule(rules, "packet_rate_limit", "ingress")
    if pps_in:
        int_flows.append(_step(SWITCH_TABLE, INGRESS_PACKET_RATE, f"dl_dst={mac}", meter(
            "ingress-packet-rate", "pktps", pps_in["max_kpps"] * 1000,
            (pps_in["max_burst_kpps"] or 0) * 1000)))
    limit_in = _rule(rules, "bandwidth_limit", "ingress")
    ingress_limit = ((limit_in["max_kbps"] * 1000, (limit_in["max_burst_kbps"] or 0) * 1000)
                     if limit_in else None)
    minimum = _rule(rules, "minimum_bandwidth")
    min_rate = minimum["min_kbps"] * 1000 if minimum and physical else None
    if min_rate:
        # The queue number is the port's OpenFlow port (unique on br-int), carried
        # to the physical bridge in the packet's mark, as Neutron's agent does.
        int_flows.append(_step(0, MINIMUM_BANDWIDTH, in_port,
                               f"load:{ofport}->NXM_NX_PKT_MARK[]"))
        phys_flows.append(_step(0, MINIMUM_BANDWIDTH, f"pkt_mark={ofport}",
                                f"set_queue:{ofport}"))
    return PortQos(tuple(meters), tuple(int_flows), tuple(phys_flows), ingress_limit, min_rate)
