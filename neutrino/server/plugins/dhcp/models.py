"""The DHCP agent scheduler's table: which DHCP agents serve a network."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.server.db.models import (
    Agent,
    Base,
    cascade_fk,
)


class NetworkDhcpAgentBinding(Base):
    """Which DHCP agents serve a network; the key allows each agent once per network."""

    __tablename__ = "network_dhcp_agent_bindings"

    # CASCADE on both: deleting the network or the agent removes its bindings.
    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), primary_key=True)
    dhcp_agent_id: Mapped[str] = mapped_column(cascade_fk("agents.id"), primary_key=True,
                                               index=True)

    agent: Mapped[Agent] = relationship(lazy="selectin")
