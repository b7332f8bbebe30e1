"""A per-test database: MySQL by default, or a SQLite file.

The admin URL (``OS_TEST_DBAPI_ADMIN_CONNECTION``, the usual opportunistic
test convention) may create and drop databases; each test gets one named
after its prefix, so ``self.engine.url`` in pdb names the exact database.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import fixtures
import sqlalchemy

from fullstack import prerequisites

DB_STEM = "fullstack_"


def database_name(prefix: str) -> str:
    return DB_STEM + prefix


class _AdminConnection:
    def __init__(self, admin_url: str):
        self.engine = sqlalchemy.create_engine(admin_url, poolclass=sqlalchemy.pool.NullPool)

    def execute(self, sql: str) -> list:
        try:
            with self.engine.connect() as conn:
                result = conn.execute(sqlalchemy.text(sql))
                rows = list(result) if result.returns_rows else []
                conn.commit()
                return rows
        except sqlalchemy.exc.OperationalError as exc:
            raise prerequisites.MissingPrerequisite(
                f"MySQL at {self.engine.url.render_as_string()} refused the admin "
                f"connection ({exc.orig})") from exc


def list_databases(admin_url: str) -> list[str]:
    """Databases this harness created (by name), for leak checks and cleanup."""
    if admin_url.startswith("sqlite"):
        return []
    rows = _AdminConnection(admin_url).execute(f"SHOW DATABASES LIKE '{DB_STEM}%'")
    return [row[0] for row in rows]


def drop_database(admin_url: str, name: str) -> None:
    if not name.startswith(DB_STEM):
        raise ValueError(f"refusing to drop {name!r}: not a database of this harness")
    _AdminConnection(admin_url).execute(f"DROP DATABASE IF EXISTS `{name}`")


class Database(fixtures.Fixture):
    """Creates the database, exposes ``url`` and ``engine``, drops it at cleanup.

    ``keep`` is asked at cleanup time: when it says yes (the test failed and
    FULLSTACK_KEEP_ON_FAILURE is set) the database stays for inspection.
    """

    def __init__(self, admin_url: str, prefix: str, sqlite_dir: str,
                 keep: Callable[[], bool] = lambda: False):
        super().__init__()
        self.admin_url = admin_url
        self.name = database_name(prefix)
        self.sqlite_dir = sqlite_dir
        self.keep = keep

    def _setUp(self) -> None:
        if self.admin_url.startswith("sqlite"):
            self._set_up_sqlite()
        else:
            self._set_up_mysql()
        self.engine = sqlalchemy.create_engine(self.url, pool_pre_ping=True)
        self.addCleanup(self.engine.dispose)

    def _set_up_mysql(self) -> None:
        admin = _AdminConnection(self.admin_url)
        admin.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        self.addCleanup(self._drop)
        url = sqlalchemy.engine.make_url(self.admin_url).set(database=self.name)
        self.url = url.render_as_string(hide_password=False)

    def _set_up_sqlite(self) -> None:
        os.makedirs(self.sqlite_dir, exist_ok=True)
        path = os.path.join(self.sqlite_dir, self.name + ".sqlite")
        self.addCleanup(self._drop_file, path)
        self.url = "sqlite:///" + path

    def _drop(self) -> None:
        if not self.keep():
            drop_database(self.admin_url, self.name)

    def _drop_file(self, path: str) -> None:
        if not self.keep() and os.path.exists(path):
            os.unlink(path)
