"""``python -m fullstack cleanup``: remove what crashed or killed runs left behind.

A run is identified by its prefix.  A prefix whose owning process (pid and
start time, from the allocator's registry) is gone is dead; everything that
carries a dead prefix is removed: recorded processes (by pid, after checking
their start time), namespaces and root-namespace links named ``<prefix>-*``,
the RabbitMQ vhosts and users ``fullstack.<prefix>`` (and its regions'
``fullstack.<prefix>-<region>``), the databases ``fullstack_<prefix>*``, the
run directory and the allocations.  Nothing without a dead prefix of this
harness is touched.
"""

from __future__ import annotations

import contextlib
import logging

from pyroute2 import IPRoute, netns

from fullstack import prerequisites
from fullstack.resources import allocator, database, namespace, rabbitmq, records

LOG = logging.getLogger(__name__)


def dead_prefixes(settings: prerequisites.Settings) -> list[str]:
    registry = allocator.Registry(settings.state_dir)
    held = registry.held("prefix")
    dead = {prefix for prefix, owner in held.items() if not allocator.owner_alive(owner)}
    # Run directories without a registry entry belong to nobody alive either.
    dead |= {prefix for prefix in records.list_runs(settings.state_dir) if prefix not in held}
    return sorted(dead)


def _kill_processes(settings: prerequisites.Settings, prefix: str) -> list[str]:
    removed = []
    for record in records.recorded_processes(settings.state_dir, prefix):
        proc = records.live_process(record)
        if proc is not None:
            records.kill(proc)
            removed.append(f"process {record['pid']} ({record['name']})")
        for member in records.kill_session(record["pid"], record["create_time"]):
            removed.append(f"process {member.pid} (of {record['name']}'s session)")
        records.forget_process(settings.state_dir, prefix, record["pid"])
    for pid_file in records.pid_files(settings.state_dir, prefix):
        if records.kill_by_pid_file(pid_file):
            removed.append(f"daemon of {pid_file}")
    return removed


def _delete_network_things(prefix: str) -> list[str]:
    removed = []
    stem = prefix + "-"
    for name in namespace.starting_with(stem):
        netns.remove(name)
        removed.append(f"namespace {name}")
    with IPRoute() as ipr:
        for link in ipr.get_links():
            name = link.get("ifname")
            if name and name.startswith(stem):
                with contextlib.suppress(Exception):
                    ipr.link("del", index=link["index"])
                    removed.append(f"link {name}")
    return removed


def _delete_services(settings: prerequisites.Settings, prefix: str) -> list[str]:
    removed = []
    api = rabbitmq.ManagementApi(settings.rabbit_admin_url)
    stem = rabbitmq.VHOST_STEM + prefix

    def ours(name: str) -> bool:
        # The run's own, and each of its regions' (<stem>-<region>).
        return name == stem or name.startswith(stem + "-")

    for name in filter(ours, api.vhosts()):
        api.delete_vhost(name)
        removed.append(f"vhost {name}")
    for name in filter(ours, api.users()):
        api.delete_user(name)
        removed.append(f"rabbitmq user {name}")
    # The run's database, and any it made on the side (a schema being migrated).
    stem = database.database_name(prefix)
    for db_name in database.list_databases(settings.db_admin_url):
        if db_name == stem or db_name.startswith(stem + "_"):
            database.drop_database(settings.db_admin_url, db_name)
            removed.append(f"database {db_name}")
    return removed


def clean_prefix(settings: prerequisites.Settings, prefix: str) -> list[str]:
    """Remove everything of one (dead) run; return what was removed."""
    removed = _kill_processes(settings, prefix)
    removed += _delete_network_things(prefix)
    removed += _delete_services(settings, prefix)
    records.remove_run(settings.state_dir, prefix)
    registry = allocator.Registry(settings.state_dir)
    for kind, value in registry.release_owner(prefix):
        removed.append(f"allocation {kind} {value}")
    registry.release("prefix", prefix)
    return removed


def clean_dead_runs(settings: prerequisites.Settings) -> dict[str, list[str]]:
    prerequisites.check_root()
    return {prefix: clean_prefix(settings, prefix) for prefix in dead_prefixes(settings)}
