"""What the QoS plugin tells L2 agents: the ports whose policy or rules changed.

One event, ``qos_ports_updated``, naming the ports (whatever host they are
bound to): each agent asks again for the rules of those of them it wired,
and leaves the rest alone.  A port given another policy needs no event of
this plugin's: the core plugin's ``port_update`` makes its agent wire it
anew, and the agent's QoS extension asks for its rules then.
"""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.server.rpc.notifier import Notifier, unique

PORTS_UPDATED = "qos_ports_updated"


class QosAgentNotifier:
    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def ports_updated(self, port_ids: Iterable[str | None]) -> None:
        ports = unique(port_ids)
        if ports:
            self._notifier.notify(PORTS_UPDATED, ports=ports)
