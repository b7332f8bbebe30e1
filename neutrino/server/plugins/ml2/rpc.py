"""What L2 agents (and every agent's heartbeat) call on the plugin topic.

Every public method here is an RPC method (agents call them with keyword
arguments); helpers are private so the RPC server exposes nothing else.
The dispatcher ends each call's database session scope.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, errors
from neutrino.server.plugins.ml2 import binding, l2pop
from neutrino.server.plugins.ml2.agents import AgentService
from neutrino.server.plugins.ml2.mechanisms import MechanismManager
from neutrino.server.plugins.ml2.notify import L2AgentNotifier
from neutrino.server.plugins.ml2.tunnel_endpoints import TunnelEndpoints
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from neutrino.server.plugins.ml2.type_drivers.tunnel import TunnelTypeDriver

LOG = logging.getLogger(__name__)

# A port's l2pop facts before and after a change.
PortChange = tuple[l2pop.PortFacts, l2pop.PortFacts]


class L2RpcEndpoint:
    def __init__(self, db: database.Database, agents: AgentService,
                 mechanisms: MechanismManager, tunnels: TunnelEndpoints,
                 type_manager: TypeManager, notifier: L2AgentNotifier):
        self._db = db
        self._agents = agents
        self._mechanisms = mechanisms
        self._tunnels = tunnels
        self._type_manager = type_manager
        self._notifier = notifier

    def report_state(self, agent_state: dict[str, Any], time: str | None = None) -> str:
        self._warn_on_clock_skew(agent_state.get("host"), time)
        self._agents.report_state(agent_state)
        return "alive"

    def get_device_details(self, device: str, agent_id: str, host: str) -> dict[str, Any]:
        return self._db.run(lambda session: self._device_details(session, device, host))

    def get_devices_details_list(self, devices: list[str], agent_id: str,
                                 host: str) -> list[dict[str, Any]]:
        return [self._db.run(functools.partial(self._device_details, device=device, host=host))
                for device in devices]

    def update_device_up(self, device: str, agent_id: str, host: str) -> dict[str, Any]:
        exists, change = self._set_status(device, host, "ACTIVE")
        if change is not None:
            # Even a port that was ACTIVE already: its agent may have
            # restarted and forgotten every remote port.
            self._mechanisms.port_up(change[1].network_id)
        return {"exists": exists}

    def update_device_down(self, device: str, agent_id: str, host: str) -> dict[str, Any]:
        exists, change = self._set_status(device, host, "DOWN")
        if change is not None:
            self._mechanisms.port_changed(*change)
        return {"exists": exists, "device": device}

    def tunnel_sync(self, tunnel_ip: str, tunnel_type: str, host: str) -> dict[str, Any]:
        tunnel_types = [name for name, driver in self._type_manager.drivers.items()
                        if isinstance(driver, TunnelTypeDriver)]
        if tunnel_type not in tunnel_types:
            raise errors.BadRequest(
                f"tunnel_type {tunnel_type!r} from host {host} is not one of the "
                f"server's tunnel types ({', '.join(tunnel_types) or 'none'})")
        tunnels = self._tunnels.sync(tunnel_ip, tunnel_type, host)
        self._notifier.tunnel_update(tunnel_ip, tunnel_type, host)
        return {"tunnels": tunnels}

    def _device_details(self, session: Session, device: str, host: str) -> dict[str, Any]:
        port = session.get(models.Port, device)
        if port is None or port.binding.host != host:
            LOG.debug("device %s requested by host %s is unknown or bound elsewhere",
                      device, host)
            return {"device": device}
        network = port.network
        segments = binding.network_segments(network)
        if port.binding.vif_type in binding.UNBOUND_VIF_TYPES:
            result = self._mechanisms.bind(session, port, network)
            if not result.bound:
                return {"device": device}
            segment = result.segment
        else:
            # One segment per network so far; multi-segment networks will
            # need the bound segment stored with the binding.
            segment = segments[0] if segments else None
        return {
            "device": device,
            "port_id": port.id,
            "network_id": port.network_id,
            "mac_address": port.mac_address,
            "fixed_ips": port.fixed_ip_list(),
            "admin_state_up": port.admin_state_up,
            "network_type": segment.network_type if segment else None,
            "physical_network": segment.physical_network if segment else None,
            "segmentation_id": segment.segmentation_id if segment else None,
            "device_owner": port.device_owner,
        }

    def _set_status(self, device: str, host: str, status: str) -> tuple[bool, PortChange | None]:
        """Whether the port exists, and its facts before and after if ``host`` set its status."""
        def work(session: Session) -> tuple[bool, PortChange | None]:
            port = session.get(models.Port, device)
            if port is None:
                return False, None
            if host and port.binding.host not in ("", host):
                LOG.warning("host %s reports port %s %s, but it is bound to host %s",
                            host, device, status, port.binding.host)
                return True, None
            before = l2pop.PortFacts.of(port)
            port.status = status
            return True, (before, l2pop.PortFacts.of(port))
        return self._db.run(work)

    def _warn_on_clock_skew(self, host: str | None, time: str | None) -> None:
        if not time:
            return
        try:
            skew = abs((clock.utcnow() - clock.parse(time)).total_seconds())
        except ValueError:
            return
        if skew > 5:
            LOG.warning("clock of host %s is %.0f s off the server's; heartbeats and "
                        "agent liveness will be unreliable", host, skew)
