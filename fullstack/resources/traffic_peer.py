"""The two ends of a measured flow (``probes.measure_throughput`` and its kin).

``receive PROTOCOL IP PORT`` counts what reaches IP:PORT and, once the
sender is done (no packet for ``--idle`` s after the first one, or the TCP
connection closed), prints one JSON line: bytes and packets received, the
times of the first and the last, the same counted from ``--skip`` s after
the first (the steady rate, once a limiter's burst is spent: an OpenFlow
meter lets a second's worth through at once), and the TOS bytes the packets
carried (UDP).  With ``--report S`` it also prints, as it goes, a line
``bin START BYTES`` for every S s in which something arrived.

``send PROTOCOL IP PORT`` sends for ``--seconds``: UDP paced at
``--rate-bps`` (or ``--pps``) in datagrams of ``--size`` bytes, or
``--count`` datagrams; TCP as fast as it goes.  Standard library only.

Run as ``python -m fullstack.resources.traffic_peer``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from typing import Any

TICK = 0.001          # s: the sender's pacing granularity
FIRST_WAIT = 10.0     # s beyond the flow's length a receiver waits for its first packet


def say(message: str) -> None:
    print(message, flush=True)


def receive(args: argparse.Namespace) -> None:
    counted: dict[str, Any] = {"bytes": 0, "packets": 0, "first": None, "last": None,
                               "tos": []}
    tos_seen: set[int] = set()

    arrivals: list[tuple[float, int]] = []
    current = [0.0, 0]   # with --report: the bin being counted (its start, bytes)

    def arrived(size: int) -> None:
        now = time.monotonic()
        counted["first"] = counted["first"] or now
        counted["last"] = now
        counted["bytes"] += size
        counted["packets"] += 1
        arrivals.append((now, size))
        if args.report:
            if now >= current[0] + args.report:
                if current[1]:
                    say(f"bin {current[0]:.6f} {current[1]}")
                current[:] = [now - (now - counted["first"]) % args.report, 0]
            current[1] += size

    if args.protocol == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        sock.bind((args.ip, args.port))
        say(f"listening on {args.ip}:{args.port}")
        sock.settimeout(args.seconds + FIRST_WAIT)
        while True:
            try:
                data, ancillary, _, _ = sock.recvmsg(65535, socket.CMSG_SPACE(1))
            except TimeoutError:
                break
            arrived(len(data))
            for level, kind, value in ancillary:
                if level == socket.IPPROTO_IP and kind == socket.IP_TOS and value:
                    tos_seen.add(value[0])
            if args.count and counted["packets"] >= args.count:
                break
            sock.settimeout(args.idle)
    else:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((args.ip, args.port))
        server.listen(1)
        say(f"listening on {args.ip}:{args.port}")
        server.settimeout(args.seconds + FIRST_WAIT)
        try:
            connection, _ = server.accept()
        except TimeoutError:
            say("result " + json.dumps(counted))
            return
        connection.settimeout(args.seconds + FIRST_WAIT)
        while True:
            try:
                data = connection.recv(1 << 16)
            except TimeoutError:
                break
            if not data:
                break
            arrived(len(data))
    counted["tos"] = sorted(tos_seen)
    steady_from = (counted["first"] or 0) + args.skip
    steady = [size for at, size in arrivals if at >= steady_from]
    counted.update(steady_from=steady_from, steady_bytes=sum(steady), steady_packets=len(steady))
    say("result " + json.dumps(counted))


def send(args: argparse.Namespace) -> None:
    if args.protocol == "tcp":
        sock = socket.create_connection((args.ip, args.port), timeout=10)
        chunk = b"x" * (1 << 16)
        deadline = time.monotonic() + args.seconds
        sent = 0
        while time.monotonic() < deadline:
            sent += sock.send(chunk)
        sock.close()
        say("sent " + json.dumps({"bytes": sent}))
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"x" * args.size
    if args.count:
        for _ in range(args.count):
            sock.sendto(payload, (args.ip, args.port))
            time.sleep(args.gap)
        say("sent " + json.dumps({"packets": args.count}))
        return
    per_second = args.pps or args.rate_bps / (8 * (args.size + 28))   # 28: IP and UDP headers
    start = time.monotonic()
    sent = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= args.seconds:
            break
        due = int(elapsed * per_second) + 1
        while sent < due:
            try:
                sock.sendto(payload, (args.ip, args.port))
            except OSError:   # the socket's buffer is full: the next tick sends it
                break
            sent += 1
        time.sleep(TICK)
    say("sent " + json.dumps({"packets": sent, "bytes": sent * args.size}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="traffic_peer")
    parser.add_argument("role", choices=["send", "receive"])
    parser.add_argument("protocol", choices=["udp", "tcp"])
    parser.add_argument("ip")
    parser.add_argument("port", type=int)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rate-bps", type=float, default=50e6)
    parser.add_argument("--pps", type=float, default=0.0)
    parser.add_argument("--size", type=int, default=1400)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--idle", type=float, default=1.5)
    parser.add_argument("--skip", type=float, default=0.0)
    parser.add_argument("--report", type=float, default=0.0)
    args = parser.parse_args(argv)
    (send if args.role == "send" else receive)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
