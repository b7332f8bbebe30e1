"""The plugin's alembic environment, run by ``neutron-db-manage upgrade heads``.

Its revisions are recorded in a version table of their own, beside Neutron's.
"""

from alembic import context
from neutron.db.migration.connection import DBConnection

VERSION_TABLE = "alembic_version_port_notes"

config = context.config


def run_migrations_online():
    neutron_config = config.neutron_config
    connection = config.attributes.get("connection")
    with DBConnection(neutron_config.database.connection, connection) as conn:
        context.configure(connection=conn, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("port_notes migrations run online only")
run_migrations_online()
