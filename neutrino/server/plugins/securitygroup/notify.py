"""What the security group plugin tells L2 agents (Neutron's names for it).

``rule_updated``: the rules of these groups changed, so ports that are
members filter anew.  ``member_updated``: these groups gained or lost
members (or a member's addresses changed), so rules naming them as their
remote group filter anew.
"""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.server.rpc.notifier import Notifier, unique


class SecurityGroupAgentNotifier:
    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def rule_updated(self, group_ids: Iterable[str | None]) -> None:
        groups = unique(group_ids)
        if groups:
            self._notifier.notify("security_groups_rule_updated", security_groups=groups)

    def member_updated(self, group_ids: Iterable[str | None]) -> None:
        groups = unique(group_ids)
        if groups:
            self._notifier.notify("security_groups_member_updated", security_groups=groups)
