"""What a run writes to disk so that a crashed run can be cleaned up later.

Layout under the state directory (``/run/fullstack`` by default)::

    allocations.json            the allocator's registry (see allocator.py)
    runs/<prefix>/processes/    one JSON file per live process we started
    runs/<prefix>/ovs/<name>/   an OVS instance's database, sockets, pids
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time

import psutil


@dataclasses.dataclass(frozen=True)
class Ownership:
    """Who owns a process, and where its files go: the run's prefix, the log
    directory its output goes to, and the state directory it is recorded
    under (by pid, for the cleanup command after a crash).  The run's context
    makes one; every process and OVS instance of the run carries it."""

    prefix: str
    log_dir: str
    state_dir: str

    def log_path(self, name: str, suffix: str = ".log") -> str:
        return os.path.join(self.log_dir, name + suffix)

    def record(self, name: str, pid: int, cmd: list[str]) -> None:
        record_process(self.state_dir, self.prefix, name, pid, cmd)

    def forget(self, pid: int) -> None:
        forget_process(self.state_dir, self.prefix, pid)


def run_dir(state_dir: str, prefix: str) -> str:
    return os.path.join(state_dir, "runs", prefix)


def list_runs(state_dir: str) -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(state_dir, "runs")))
    except FileNotFoundError:
        return []


def remove_run(state_dir: str, prefix: str) -> None:
    shutil.rmtree(run_dir(state_dir, prefix), ignore_errors=True)


def _process_path(state_dir: str, prefix: str, pid: int) -> str:
    return os.path.join(run_dir(state_dir, prefix), "processes", f"{pid}.json")


def record_process(state_dir: str, prefix: str, name: str, pid: int, cmd: list[str]) -> None:
    """Remember a process by identity: pid plus start time, never by name."""
    path = _process_path(state_dir, prefix, pid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return
    with open(path, "w") as f:
        json.dump({"name": name, "pid": pid, "create_time": started, "cmd": cmd}, f)


def forget_process(state_dir: str, prefix: str, pid: int) -> None:
    try:
        os.unlink(_process_path(state_dir, prefix, pid))
    except FileNotFoundError:
        pass


def recorded_processes(state_dir: str, prefix: str) -> list[dict]:
    folder = os.path.join(run_dir(state_dir, prefix), "processes")
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        try:
            with open(os.path.join(folder, name)) as f:
                found.append(json.load(f))
        except (OSError, ValueError):
            continue
    return found


def live_process(record: dict) -> psutil.Process | None:
    """The process a record names, if that very process still runs."""
    try:
        proc = psutil.Process(record["pid"])
        same = abs(proc.create_time() - record["create_time"]) < 0.05
        if same and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except (psutil.Error, KeyError):
        pass
    return None


def process_of_pid_file(pid_file: str) -> psutil.Process | None:
    """The running daemon a pid file names, if its command line names that file.

    For processes our processes started and that outlive them by design
    (dnsmasq): they are ours when they point at a file of our run.
    """
    try:
        with open(pid_file) as f:
            proc = psutil.Process(int(f.read().strip()))
        if any(pid_file in arg for arg in proc.cmdline()) and \
                proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except (OSError, ValueError, psutil.Error):
        pass
    return None


def kill(proc: psutil.Process, timeout: float = 10.0) -> None:
    """SIGKILL a process we identified, and wait until it is gone.

    Dead is enough: an orphan stays a zombie until PID 1 reaps it, which
    here takes up to two seconds.
    """
    try:
        proc.kill()
    except psutil.Error:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.Error:
            return
        time.sleep(0.01)


def session_members(leader: int, not_before: float) -> list[psutil.Process]:
    """The live processes of the session ``leader`` started (every process the
    harness starts leads a session of its own): its workers and helpers.

    ``not_before`` (the leader's start, time.time()) keeps a stranger that
    reuses the pid as its session id out.
    """
    found = []
    for proc in psutil.process_iter(["create_time"]):
        try:
            if proc.pid != leader and os.getsid(proc.pid) == leader and \
                    proc.info["create_time"] >= not_before - 1 and \
                    proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def kill_session(leader: int, not_before: float) -> list[psutil.Process]:
    """SIGKILL what is left of a session we started (the leader itself may be gone)."""
    members = session_members(leader, not_before)
    for proc in members:
        kill(proc)
    return members


def kill_by_pid_file(pid_file: str) -> bool:
    proc = process_of_pid_file(pid_file)
    if proc is None:
        return False
    kill(proc)
    return True


def pid_files(state_dir: str, prefix: str) -> list[str]:
    """Every daemon pid file under a run's directory."""
    found = []
    for root, _, files in os.walk(run_dir(state_dir, prefix)):
        found += [os.path.join(root, name) for name in files if name == "pid"]
    return found
