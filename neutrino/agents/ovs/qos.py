"""The OVS agent's QoS extension (``[agent] extensions = qos``).

For each port it wires it asks the server for the port's rules
(``qos_rules_for_ports``) and makes the bridges enforce them
(``qos_flows``: meters, flows, an htb queue); ``qos_ports_updated``, a
notification of its own, names ports whose rules changed, and it reads those
again.  It changes only what differs from what it applied, so a changed rate
is one ``mod-meter`` and the port's traffic never goes unlimited between.
Everything runs on the agent's wiring thread (``AgentApi.call_soon``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from neutrino.agents.ovs import ofctl, qos_flows
from neutrino.agents.ovs.extensions import AgentApi, AgentExtension
from neutrino.agents.ovs.ports import WiredPort
from neutrino.common import rpc, wire

LOG = logging.getLogger(__name__)

RETRY_INTERVAL = 1.0


class QosExtension(AgentExtension):
    def __init__(self) -> None:
        self.api: AgentApi | None = None
        self.ports: dict[str, WiredPort] = {}            # by port id: wired with rules asked
        self.applied: dict[str, qos_flows.PortQos] = {}  # by port id
        self.listener: rpc.NotificationListener | None = None
        self.physical: list[ofctl.OfctlBridge] = []   # the physical bridges, in OpenFlow13
        self.meters: set[int] = set()
        # Ports applied to since this run began.  What an earlier run left for a
        # port (its meters, queue rows) is unknown until then, so its first
        # application sets everything, whatever ``applied`` says.
        self.seen: set[str] = set()

    def initialize(self, api: AgentApi) -> None:
        self.api = api
        self.br_int = api.br_int.speaking("OpenFlow13")
        self.physical = [bridge.ofctl.speaking("OpenFlow13")
                         for bridge in api.physical.values()]
        # Meters a previous run made: changed, not added, when their port comes back.
        self.meters = self.br_int.meter_ids()
        self.listener = rpc.NotificationListener(
            api.conf.transport_url, self, exchange=wire.NOTIFY_EXCHANGE,
            events=["qos_ports_updated"])
        self.listener.start()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()

    # -- the notification (listener thread) --------------------------------------
    def qos_ports_updated(self, ports: list[str]) -> None:
        assert self.api is not None and self.api.call_soon is not None
        self.api.call_soon(self._refresh, ports)

    # -- the agent's calls (wiring thread) ----------------------------------------
    def handle_port(self, port: WiredPort) -> None:
        if port.dead or port.details is None or port.lvid is None:
            self.delete_port(port)
            return
        self.ports[port.iface_id] = port
        self._refresh([port.iface_id])

    def delete_port(self, port: WiredPort) -> None:
        self.ports.pop(port.iface_id, None)
        self._apply(port, qos_flows.PortQos())
        self.seen.discard(port.iface_id)

    def _refresh(self, port_ids: list[str]) -> None:
        mine = [port_id for port_id in port_ids if port_id in self.ports]
        if not mine:
            return
        assert self.api is not None
        try:
            found = self.api.plugin.call("qos_rules_for_ports", ports=mine,
                                         timeout=self.api.conf.rpc_response_timeout)
        except rpc.RpcError as exc:
            LOG.warning("no QoS rules for %s (%s); asking again in %.0f s", ", ".join(mine),
                        exc, RETRY_INTERVAL)
            self._later(mine)
            return
        for port_id in mine:
            port = self.ports.get(port_id)
            if port is None or port.details is None:
                continue
            rules = (found.get(port_id) or {}).get("rules", [])
            wanted = qos_flows.port_qos(port.ofport, port.details.mac_address, rules,
                                        physical=bool(port.details.physical_network))
            try:
                self._apply(port, wanted)
            except Exception:   # noqa: BLE001 - logged; the next change or retry applies it
                LOG.exception("QoS of port %s could not be applied; trying again", port_id)
                self._later([port_id])
                continue
            LOG.info("port %s: QoS policy %s applied (%d rules)", port_id,
                     (found.get(port_id) or {}).get("policy_id"), len(rules))

    def _later(self, port_ids: list[str]) -> None:
        timer = threading.Timer(RETRY_INTERVAL, self.qos_ports_updated, [port_ids])
        timer.daemon = True
        timer.start()

    # -- applying: only what differs -------------------------------------------------
    def _apply(self, port: WiredPort, wanted: qos_flows.PortQos) -> None:
        before = self.applied.get(port.iface_id, qos_flows.PortQos())
        first = port.iface_id not in self.seen
        self.seen.add(port.iface_id)
        if wanted == before and not first:
            return
        for meter in wanted.meters:
            if first or meter not in before.meters:
                self.br_int.set_meter(meter.spec(), exists=meter.meter_id in self.meters)
                self.meters.add(meter.meter_id)
        ofctl.change_flows(self.br_int, before.int_flows, wanted.int_flows)
        for bridge in self.physical:
            ofctl.change_flows(bridge, before.phys_flows, wanted.phys_flows)
        # The port's meters no rule asks for now (an earlier run's too).
        unwanted = ({qos_flows.meter_id(port.ofport, slot) for slot in qos_flows.METER_SLOTS}
                    if first else {m.meter_id for m in before.meters})
        for meter_id in (unwanted & self.meters) - {m.meter_id for m in wanted.meters}:
            self.br_int.delete_meter(meter_id)
            self.meters.discard(meter_id)
        if first or wanted.ingress_limit != before.ingress_limit:
            self._set_ingress_limit(port, wanted.ingress_limit)
        if first or wanted.min_rate != before.min_rate:
            self._set_min_rate(port, wanted.min_rate)
        if wanted.empty:
            self.applied.pop(port.iface_id, None)
        else:
            self.applied[port.iface_id] = wanted

    # -- OVSDB: the htb queue toward the machine, minimum-bandwidth queues -----------
    def _find(self, table: str, external_ids: dict[str, str]) -> list[dict[str, Any]]:
        """The rows of ``table`` whose external_ids include ``external_ids``."""
        assert self.api is not None
        rows = self.api.ovsdb.db_list(table, columns=["_uuid", "external_ids", "queues"]
                                      if table == "QoS" else ["_uuid", "external_ids"]
                                      ).execute(check_error=True)
        return [row for row in rows
                if external_ids.items() <= dict(row["external_ids"]).items()]

    def _set_ingress_limit(self, port: WiredPort, limit: tuple[int, int] | None) -> None:
        """An htb queue capping what the port's veth passes to the machine."""
        assert self.api is not None
        ovsdb, key = self.api.ovsdb, {qos_flows.INGRESS_QUEUE_KEY: port.iface_id}
        queues, qoses = self._find("Queue", key), self._find("QoS", key)
        if limit is None and not (queues or qoses):
            return
        if limit is None:
            with ovsdb.transaction(check_error=True) as txn:
                if ovsdb.lookup("Port", port.name, default=None) is not None:
                    txn.add(ovsdb.db_clear("Port", port.name, "qos"))
                for row in qoses:
                    txn.add(ovsdb.db_destroy("QoS", row["_uuid"]))
                for row in queues:
                    txn.add(ovsdb.db_destroy("Queue", row["_uuid"]))
            return
        rate, burst = limit
        config = {"max-rate": str(rate), **({"burst": str(burst)} if burst else {})}
        with ovsdb.transaction(check_error=True) as txn:
            if queues and qoses:
                txn.add(ovsdb.db_set("Queue", queues[0]["_uuid"], ("other_config", config)))
                txn.add(ovsdb.db_set("QoS", qoses[0]["_uuid"],
                                     ("other_config", {"max-rate": str(rate)})))
                return
            queue = txn.add(ovsdb.db_create("Queue", other_config=config, external_ids=key))
            qos = txn.add(ovsdb.db_create("QoS", type="linux-htb", queues={0: queue},
                                          other_config={"max-rate": str(rate)},
                                          external_ids=key))
            txn.add(ovsdb.db_set("Port", port.name, ("qos", qos)))

    def _set_min_rate(self, port: WiredPort, rate: int | None) -> None:
        """Neutron's rows: a Queue per port (``min-rate``), in one linux-htb QoS on the
        physical bridges' own ports, the queue numbered by the port's OpenFlow port."""
        assert self.api is not None
        ovsdb = self.api.ovsdb
        mine = {"port": port.iface_id, "type": qos_flows.MIN_BW_QOS_TYPE}
        queues = self._find("Queue", mine)   # at most one; an earlier run's numbered anew
        if rate is None and not queues:
            return
        kind = {"_type": qos_flows.MIN_BW_QOS_TYPE}
        qos = next(iter(self._find("QoS", kind)), None)   # one per host, a restart's too
        with ovsdb.transaction(check_error=True) as txn:
            held = dict(qos["queues"]) if qos else {}
            for row in queues:
                held.pop(int(dict(row["external_ids"]).get("queue-num", -1)), None)
                txn.add(ovsdb.db_destroy("Queue", row["_uuid"]))
            if rate is not None:
                held[port.ofport] = txn.add(ovsdb.db_create(
                    "Queue", external_ids={**mine, "queue-num": str(port.ofport)},
                    other_config={"min-rate": str(rate), "max-rate": str(qos_flows.OVS_MAX_RATE)}))
            if qos is not None and held:
                txn.add(ovsdb.db_set("QoS", qos["_uuid"], ("queues", held)))
                return
            if qos is not None:   # its last queue went: so does it, from every port
                for name in self._physical_ports():
                    txn.add(ovsdb.db_clear("Port", name, "qos"))
                txn.add(ovsdb.db_destroy("QoS", qos["_uuid"]))
                return
            if rate is None:
                return
            made = txn.add(ovsdb.db_create(
                "QoS", type="linux-htb", queues=held,
                external_ids={"id": str(uuid.uuid4()), **kind},
                other_config={"max-rate": str(qos_flows.OVS_MAX_RATE)}))
            for name in self._physical_ports():
                txn.add(ovsdb.db_set("Port", name, ("qos", made)))

    def _physical_ports(self) -> list[str]:
        """The physical bridges' own ports: not their link to br-int."""
        assert self.api is not None
        found = []
        for bridge in self.api.physical.values():
            for name in self.api.ovsdb.list_ports(bridge.name).execute(check_error=True):
                kind = self.api.ovsdb.db_get("Interface", name, "type").execute(
                    check_error=True)
                if kind in ("", "system") and not name.startswith("phy-"):
                    found.append(name)
        return found
