"""SCTP packets built and read in userspace: the common header, chunks, CRC32c.

What ``netcat_peer`` speaks over raw IP sockets where the kernel has no SCTP
(RFC 9260): enough of the protocol for a firewall to see a well-formed
association (ports, verification tags, checksum, the INIT handshake, DATA).
"""

from __future__ import annotations

import dataclasses
import random
import struct

CRC32C_POLYNOMIAL = 0x82F63B78   # reflected 0x1EDC6F41


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (CRC32C_POLYNOMIAL if crc & 1 else 0)
        table.append(crc)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC32c (Castagnoli), SCTP's checksum (RFC 9260, appendix A)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 8) ^ CRC32C_TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


DATA, INIT, INIT_ACK, COOKIE_ECHO, COOKIE_ACK = 0, 1, 2, 10, 11
STATE_COOKIE = 7            # the INIT ACK parameter the COOKIE ECHO returns
DATA_UNFRAGMENTED = 0x03    # DATA flags B and E: first and last fragment
A_RWND = 65535


@dataclasses.dataclass(frozen=True)
class Chunk:
    kind: int
    value: bytes
    flags: int = 0


@dataclasses.dataclass(frozen=True)
class Packet:
    src_port: int
    dst_port: int
    vtag: int
    chunks: tuple[Chunk, ...]


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def build_packet(packet: Packet) -> bytes:
    """The packet on the wire, its checksum filled in (little-endian, as RFC 9260 puts it)."""
    body = b"".join(_pad(struct.pack("!BBH", c.kind, c.flags, 4 + len(c.value)) + c.value)
                    for c in packet.chunks)
    header = struct.pack("!HHI", packet.src_port, packet.dst_port, packet.vtag)
    return header + struct.pack("<I", crc32c(header + b"\0\0\0\0" + body)) + body


def parse_packet(data: bytes) -> Packet:
    """The packet in ``data`` (from the SCTP common header on); ValueError if it is not one."""
    if len(data) < 12:
        raise ValueError(f"{len(data)} bytes are shorter than SCTP's 12-byte common header")
    src_port, dst_port, vtag, checksum = struct.unpack("!HHI4s", data[:12])
    if struct.unpack("<I", checksum)[0] != crc32c(data[:8] + b"\0\0\0\0" + data[12:]):
        raise ValueError("SCTP checksum does not match (not CRC32c of the packet)")
    chunks, offset = [], 12
    while offset + 4 <= len(data):
        kind, flags, length = struct.unpack_from("!BBH", data, offset)
        if length < 4 or offset + length > len(data):
            raise ValueError(f"SCTP chunk at byte {offset} has a bad length {length}")
        chunks.append(Chunk(kind, data[offset + 4:offset + length], flags))
        offset += length + (-length % 4)
    return Packet(src_port, dst_port, vtag, tuple(chunks))


def init_chunk(kind: int, init_tag: int, initial_tsn: int, cookie: bytes = b"") -> Chunk:
    """An INIT (or INIT ACK, with the state cookie the peer must echo)."""
    value = struct.pack("!IIHHI", init_tag, A_RWND, 1, 1, initial_tsn)
    if cookie:   # the last parameter: the chunk's padding pads it
        value += struct.pack("!HH", STATE_COOKIE, 4 + len(cookie)) + cookie
    return Chunk(kind, value)


def init_tag_of(chunk: Chunk) -> int:
    return struct.unpack_from("!I", chunk.value)[0]


def cookie_of(chunk: Chunk) -> bytes:
    """The state cookie parameter of an INIT ACK (empty if it has none)."""
    offset = 16
    while offset + 4 <= len(chunk.value):
        kind, length = struct.unpack_from("!HH", chunk.value, offset)
        if kind == STATE_COOKIE:
            return chunk.value[offset + 4:offset + length]
        offset += max(4, length + (-length % 4))
    return b""


def data_chunk(tsn: int, payload: bytes) -> Chunk:
    return Chunk(DATA, struct.pack("!IHHI", tsn, 0, 0, 0) + payload, DATA_UNFRAGMENTED)


def payload_of(chunk: Chunk) -> bytes:
    return chunk.value[12:]


def random_tag() -> int:
    return random.randint(1, 0xFFFFFFFF)   # a verification tag of 0 is reserved for INIT
