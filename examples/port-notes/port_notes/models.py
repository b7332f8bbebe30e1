"""The plugin's one table: a note per port, gone with the port."""

import sqlalchemy as sa
from neutron_lib.db import model_base

TABLE = "port_notes"


class PortNote(model_base.BASEV2):
    __tablename__ = TABLE

    port_id = sa.Column(sa.String(36), sa.ForeignKey("ports.id", ondelete="CASCADE"),
                        primary_key=True)
    note = sa.Column(sa.String(255), nullable=False)
