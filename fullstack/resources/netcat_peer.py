"""The two ends of a ``probes.NetcatTester`` connection, as one small program.

``server PROTOCOL IP PORT`` echoes whatever reaches IP:PORT back to its
sender.  ``client PROTOCOL IP PORT --control PATH`` connects (for UDP and
SCTP: exchanges a first echo), then keeps that one flow open and serves
requests on the unix socket PATH: a line ``TIMEOUT TOKEN`` makes it send
TOKEN over the flow and answer ``ok`` once the echo of TOKEN came back,
``timeout`` if it did not, or ``closed: why``.  Echoes of earlier tokens that
arrive late (TCP retransmits them once a path opens again) are skipped.

SCTP is spoken in userspace over raw IP sockets (protocol 132), because the
kernels the harness runs on may have no SCTP at all
(``socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)`` fails with EPROTONOSUPPORT).
So it is not a kernel SCTP association (no retransmission, SACK or
congestion control), but what a firewall looks at is real: ports,
verification tags, the CRC32c checksum, and INIT, INIT ACK, COOKIE ECHO and
COOKIE ACK before the DATA chunks, so conntrack sees an ESTABLISHED
association and SCTP port rules match.

Run as ``python -m fullstack.resources.netcat_peer``; standard library only
besides ``sctp``.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from fullstack.resources import sctp

IPPROTO_SCTP = 132
RESEND_INTERVAL = 0.5   # s between resends of a datagram (UDP, SCTP) whose echo is missing
CONTROL_TIMEOUT = 5.0   # s a control request may take to arrive once connected

T = TypeVar("T")


def say(message: str) -> None:
    print(message, flush=True)


def ip_payload(datagram: bytes) -> bytes:
    """What follows the IPv4 header (a raw socket receives the header too)."""
    return datagram[(datagram[0] & 0x0F) * 4:]


# ---- Servers ----

def serve(protocol: str, ip: str, port: int) -> None:
    if protocol == "tcp":
        listener = socket.create_server((ip, port))
        say(f"listening on {ip}:{port}/tcp")
        while True:
            conn, peer = listener.accept()
            say(f"connection from {peer[0]}:{peer[1]}")
            threading.Thread(target=_echo_stream, args=(conn,), daemon=True).start()
    elif protocol == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((ip, port))
        say(f"listening on {ip}:{port}/udp")
        while True:
            data, peer = sock.recvfrom(65535)
            sock.sendto(data, peer)
    else:
        _serve_sctp(ip, port)


def _echo_stream(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except OSError as exc:
            say(f"connection ended: {exc!r}")


def _serve_sctp(ip: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_SCTP)
    sock.bind((ip, 0))   # only packets addressed to ip
    say(f"listening on {ip}:{port}/sctp (userspace, raw socket)")
    own_tag, tsn = sctp.random_tag(), random.getrandbits(32)
    peer_tags: dict[tuple[str, int], int] = {}
    while True:
        datagram, (address, _) = sock.recvfrom(65535)
        try:
            packet = sctp.parse_packet(ip_payload(datagram))
        except ValueError:
            continue
        if packet.dst_port != port:
            continue
        peer = (address, packet.src_port)
        replies = []
        for chunk in packet.chunks:
            if chunk.kind == sctp.INIT:
                peer_tags[peer] = sctp.init_tag_of(chunk)
                say(f"association from {address}:{packet.src_port}")
                replies.append(sctp.init_chunk(sctp.INIT_ACK, own_tag, tsn,
                                               cookie=os.urandom(8)))
            elif chunk.kind == sctp.COOKIE_ECHO:
                replies.append(sctp.Chunk(sctp.COOKIE_ACK, b""))
            elif chunk.kind == sctp.DATA:
                replies.append(sctp.data_chunk(tsn, sctp.payload_of(chunk)))
                tsn = (tsn + 1) & 0xFFFFFFFF
        if replies and peer in peer_tags:
            reply = sctp.Packet(port, packet.src_port, peer_tags[peer], tuple(replies))
            sock.sendto(sctp.build_packet(reply), (address, 0))


# ---- Client flows ----

class Flow(Protocol):
    """One flow to the server: ``send`` a token, ``receive`` the echoes that came."""

    resends: bool   # whether a token whose echo is missing is sent again

    def send(self, token: bytes) -> None: ...

    def receive(self, timeout: float) -> list[bytes]: ...


def retry(send: Callable[[], None], receive: Callable[[float], T | None], timeout: float,
          resend: bool) -> T | None:
    """send(), then receive(for at most s) until it gives something, for ``timeout`` s;
    with ``resend``, send again every RESEND_INTERVAL s (datagrams get lost)."""
    deadline = time.monotonic() + timeout
    send()
    next_send = time.monotonic() + RESEND_INTERVAL if resend else deadline
    while (now := time.monotonic()) < deadline:
        if now >= next_send:
            send()
            next_send = now + RESEND_INTERVAL
        got = receive(min(deadline, next_send) - now)
        if got is not None:
            return got
    return None


def exchange(flow: Flow, token: bytes, timeout: float) -> bool:
    """Whether ``token`` sent over ``flow`` came back within ``timeout`` s."""
    def echoed(wait: float) -> bool | None:
        return True if token in flow.receive(wait) else None

    return bool(retry(lambda: flow.send(token), echoed, timeout, flow.resends))


def readable(sock: socket.socket, timeout: float) -> bool:
    return bool(select.select([sock], [], [], max(0.0, timeout))[0])


class TcpFlow:
    """One TCP connection; tokens are lines."""

    resends = False   # TCP does

    def __init__(self, ip: str, port: int, src_port: int | None, timeout: float):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src_port is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("0.0.0.0", src_port))
        self.sock.settimeout(timeout)
        self.sock.connect((ip, port))   # refused, or TimeoutError when filtered
        self.sock.settimeout(None)
        self.buffer = b""

    def send(self, token: bytes) -> None:
        self.sock.sendall(token + b"\n")

    def receive(self, timeout: float) -> list[bytes]:
        if not readable(self.sock, timeout):
            return []
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        return lines


class UdpFlow:
    """One UDP socket, its source port fixed, connected to the server."""

    resends = True

    def __init__(self, ip: str, port: int, src_port: int | None, timeout: float):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", src_port or 0))
        self.sock.connect((ip, port))
        if not exchange(self, b"hello-" + os.urandom(4).hex().encode(), timeout):
            raise TimeoutError(f"no echo from {ip}:{port}/udp within {timeout} s")

    def send(self, token: bytes) -> None:
        try:
            self.sock.send(token)
        except ConnectionRefusedError:   # an ICMP port unreachable answered an earlier one
            pass

    def receive(self, timeout: float) -> list[bytes]:
        if not readable(self.sock, timeout):
            return []
        try:
            return [self.sock.recv(65535)]
        except ConnectionRefusedError:
            return []


class SctpFlow:
    """One association from ``src_port``, over a raw socket (see the module's docstring)."""

    resends = True

    def __init__(self, ip: str, port: int, src_port: int | None, timeout: float):
        self.port, self.src_port = port, src_port or random.randint(32768, 60999)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_SCTP)
        self.sock.connect((ip, 0))   # only packets from ip
        self.own_tag, initial_tsn = sctp.random_tag(), random.getrandbits(32)
        self.tsn = (initial_tsn - 1) & 0xFFFFFFFF   # of the last DATA sent
        self.sent_token = b""
        self.peer_tag = 0   # an INIT carries none
        deadline = time.monotonic() + timeout
        init = sctp.init_chunk(sctp.INIT, self.own_tag, initial_tsn)
        init_ack = self._request(init, sctp.INIT_ACK, timeout)
        if init_ack is None:
            raise TimeoutError(f"no INIT ACK from {ip}:{port}/sctp within {timeout} s")
        self.peer_tag = sctp.init_tag_of(init_ack)
        echo = sctp.Chunk(sctp.COOKIE_ECHO, sctp.cookie_of(init_ack))
        if self._request(echo, sctp.COOKIE_ACK, deadline - time.monotonic()) is None:
            raise TimeoutError(f"no COOKIE ACK from {ip}:{port}/sctp within {timeout} s")

    def _request(self, chunk: sctp.Chunk, answer: int, timeout: float) -> sctp.Chunk | None:
        def answered(wait: float) -> sctp.Chunk | None:
            return next((c for c in self._chunks(wait) if c.kind == answer), None)

        return retry(lambda: self._send(chunk), answered, timeout, resend=True)

    def _send(self, chunk: sctp.Chunk) -> None:
        packet = sctp.Packet(self.src_port, self.port, self.peer_tag, (chunk,))
        self.sock.send(sctp.build_packet(packet))

    def _chunks(self, timeout: float) -> tuple[sctp.Chunk, ...]:
        """The chunks of the next packet, if it comes in time and is of this association."""
        if not readable(self.sock, timeout):
            return ()
        try:
            packet = sctp.parse_packet(ip_payload(self.sock.recv(65535)))
        except ValueError:
            return ()
        ours = (packet.src_port, packet.dst_port, packet.vtag) == (
            self.port, self.src_port, self.own_tag)
        return packet.chunks if ours else ()

    def send(self, token: bytes) -> None:
        if token != self.sent_token:   # a resend keeps its TSN
            self.tsn = (self.tsn + 1) & 0xFFFFFFFF
            self.sent_token = token
        self._send(sctp.data_chunk(self.tsn, token))

    def receive(self, timeout: float) -> list[bytes]:
        return [sctp.payload_of(c) for c in self._chunks(timeout) if c.kind == sctp.DATA]


FLOWS: dict[str, Callable[[str, int, int | None, float], Flow]] = {
    "tcp": TcpFlow, "udp": UdpFlow, "sctp": SctpFlow}


def run_client(protocol: str, ip: str, port: int, src_port: int | None, control_path: str,
               connect_timeout: float) -> int:
    try:
        flow = FLOWS[protocol](ip, port, src_port, connect_timeout)
    except OSError as exc:
        say(f"could not connect to {ip}:{port}/{protocol}: {exc!r}")
        return 2
    say(f"connected to {ip}:{port}/{protocol}")
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(control_path):
        os.unlink(control_path)
    control.bind(control_path)
    control.listen(4)
    try:
        while True:
            conn, _ = control.accept()
            with conn:
                _answer(conn, flow)
    finally:
        os.unlink(control_path)


def _answer(conn: socket.socket, flow: Flow) -> None:
    """Serve one control request (an empty one is a probe of whether we listen)."""
    conn.settimeout(CONTROL_TIMEOUT)
    try:
        timeout_text, token = conn.makefile("rb").readline().split()
        timeout = float(timeout_text)
    except (OSError, ValueError):
        return
    try:
        reply = "ok" if exchange(flow, token, timeout) else "timeout"
    except OSError as exc:
        reply = f"closed: {exc!r}"
    say(f"{token.decode()}: {reply}")
    try:
        conn.sendall(reply.encode() + b"\n")
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An echo server or client of NetcatTester.")
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("protocol", choices=sorted(FLOWS))
    parser.add_argument("ip")
    parser.add_argument("port", type=int)
    parser.add_argument("--src-port", type=int)
    parser.add_argument("--control", help="the client's unix control socket")
    parser.add_argument("--connect-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    # SIGTERM (how the harness stops it) unwinds, so the control socket goes too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.role == "server":
        serve(args.protocol, args.ip, args.port)
        return 0
    if not args.control:
        parser.error("a client needs --control")
    return run_client(args.protocol, args.ip, args.port, args.src_port, args.control,
                      args.connect_timeout)


if __name__ == "__main__":
    sys.exit(main())
