"""Neutron's database schema: migrated once per set of migrations, loaded into each test's.

``neutron-db-manage upgrade heads`` takes 6-14 s; loading a dump of its
result takes about half a second.  So the first test of a set of
installed migrations (Neutron's and every subproject's that registers
``neutron.db.alembic_migrations``, as a plugin's package does) migrates a
scratch database and dumps it (under a file lock: tests run side
by side), and every test loads the dump into its own database.  The dump
keeps the rows the migrations seed (the default security group rules) and
the foreign keys, which ``CREATE TABLE ... LIKE`` would lose.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from collections.abc import Iterator

import sqlalchemy

from fullstack import context, prerequisites
from fullstack.resources import config, database, runner
from fullstack.services.neutron import installation

MIGRATE_TIMEOUT = 300


MIGRATIONS_GROUP = "neutron.db.alembic_migrations"


def migrations() -> dict[str, list[str]]:
    """Each installed project's migration scripts (paths under its versions/ folder):
    what decides the schema ``upgrade heads`` makes.  Found by entry point and
    file name, without importing any of them."""
    found: dict[str, list[str]] = {}
    for entry in importlib.metadata.entry_points(group=MIGRATIONS_GROUP):
        module, _, attr = entry.value.partition(":")
        top, *inner = module.split(".")
        spec = importlib.util.find_spec(top)   # a top-level package: not imported
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"{MIGRATIONS_GROUP} entry point {entry.name!r}: package {top} "
                             "is not installed")
        versions = os.path.join(list(spec.submodule_search_locations)[0], *inner,
                                *attr.split("."), "versions")
        found[entry.name] = sorted(
            os.path.relpath(os.path.join(folder, name), versions)
            for folder, _, names in os.walk(versions) for name in names
            if name.endswith(".py") and name != "__init__.py")
    return found


def dump_path(state_dir: str) -> str:
    """The dump's file, named after Neutron's version and a digest of the installed
    migrations: a plugin installed later (or a new revision) makes a new one."""
    digest = hashlib.sha256(json.dumps(migrations(), sort_keys=True).encode()).hexdigest()
    return os.path.join(state_dir, "cache",
                        f"neutron-{installation.version()}-{digest[:12]}-schema.sql")


@contextlib.contextmanager
def _client_options(db_url: str) -> Iterator[list[str]]:
    """mysql/mysqldump options for ``db_url``; the password in a file, not in ps."""
    url = sqlalchemy.engine.make_url(db_url)
    with tempfile.NamedTemporaryFile("w", suffix=".cnf") as defaults:
        defaults.write(f"[client]\nuser={url.username or ''}\n"
                       f"password={url.password or ''}\n"
                       f"host={url.host or 'localhost'}\nport={url.port or 3306}\n")
        defaults.flush()
        yield [f"--defaults-extra-file={defaults.name}"]


def load(db: database.Database, dump: str) -> None:
    """Load ``dump`` into the (empty) database of ``db``."""
    with _client_options(db.url) as options:
        runner.execute(["mysql", *options, db.name], input_path=dump, timeout=MIGRATE_TIMEOUT)


def ensure_dump(ctx: context.RunContext) -> str:
    """The dump of a migrated schema of this Neutron version, made if missing."""
    path = dump_path(ctx.settings.state_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # a test that migrates makes the others wait
        if not os.path.exists(path):
            _migrate_and_dump(ctx, path)
    return path


def _migrate_and_dump(ctx: context.RunContext, path: str) -> None:
    # A scratch database named after the run, so the cleanup command finds
    # it if this process dies half-way.
    scratch = database.Database(ctx.settings.db_admin_url, ctx.prefix + "_schema",
                                os.path.join(ctx.run_dir, "db"))
    with scratch:
        conf = config.ConfigFile(ctx.run_dir, "neutron-db-manage.ini", {
            "DEFAULT": {"core_plugin": "ml2", "service_plugins": ["router"]},
            "database": {"connection": scratch.url},
        })
        with conf:
            runner.execute([installation.script("neutron-db-manage"), "--config-file",
                            conf.path, "upgrade", "heads"], timeout=MIGRATE_TIMEOUT)
        with _client_options(scratch.url) as options:
            dumped = runner.execute(
                ["mysqldump", *options, "--skip-comments", "--single-transaction",
                 "--no-tablespaces", "--routines", "--triggers", scratch.name],
                timeout=MIGRATE_TIMEOUT)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(dumped.stdout)
    os.replace(tmp, path)   # never a half-written dump under the real name


def check_mysql(settings: prerequisites.Settings) -> None:
    if settings.db_admin_url.startswith("sqlite"):
        raise ValueError(
            "Neutron's migrations do not run on SQLite: with FULLSTACK_SERVICE=neutron the "
            "per-test database is MySQL; set OS_TEST_DBAPI_ADMIN_CONNECTION to a MySQL admin "
            f"URL or leave it unset (default {prerequisites.DEFAULT_DB_ADMIN_URL})")
