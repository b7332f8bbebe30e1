"""The probes' logic without root: the pinger's command line and its reading of
ping's summary; NetcatTester's checks, its SCTP packets, and its peers on loopback."""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import types

import fixtures
import testtools

from fullstack import probes, wait
from fullstack.resources import daemon, records, sctp

SUMMARY = """PING 20.0.0.5 (20.0.0.5) 56(84) bytes of data.
64 bytes from 20.0.0.5: icmp_seq=1 ttl=64 time=0.412 ms

--- 20.0.0.5 ping statistics ---
80 packets transmitted, 77 received, 3.75% packet loss, time 7990ms
rtt min/avg/max/mdev = 0.101/0.322/1.870/0.250 ms
"""


class TestPinger(testtools.TestCase):
    def setUp(self):
        super().setUp()
        folder = self.useFixture(fixtures.TempDir()).path
        ctx = types.SimpleNamespace(log_dir=folder, prefix="fsunit",
                                    settings=types.SimpleNamespace(state_dir=folder),
                                    owner=records.Ownership("fsunit", folder, folder))
        self.machine = types.SimpleNamespace(ctx=ctx, namespace="fsunit-m1")

    def write_log(self, pinger: probes.Pinger, *runs: str) -> None:
        with open(pinger.log_path, "w") as f:
            for run in runs:
                f.write("==== starting: ping ...\n")
                pinger.output_offset = f.tell()
                f.write(run)

    def test_command_line(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5", count=80)
        self.assertEqual(["ping", "-i", "0.1", "-W", "1", "-c", "80", "20.0.0.5"], pinger.cmd)
        self.assertEqual("fsunit-m1", pinger.namespace)
        self.assertNotIn("-c", probes.Pinger(self.machine, "20.0.0.5", interval=0.2).cmd)

    def test_counts_come_from_the_last_summary(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5")
        earlier = SUMMARY.replace("80 packets transmitted, 77", "10 packets transmitted, 10")
        self.write_log(pinger, earlier, SUMMARY)
        self.assertEqual((80, 77, 3), (pinger.sent, pinger.received, pinger.lost))

    def test_no_summary_says_so(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5")
        self.write_log(pinger, SUMMARY.split("---")[0])
        exc = self.assertRaises(RuntimeError, getattr, pinger, "sent")
        self.assertIn("no ping summary", str(exc))
        self.assertIn(os.path.basename(pinger.log_path), str(exc))

    def test_set_up_does_not_start_it(self):
        pinger = self.useFixture(probes.Pinger(self.machine, "20.0.0.5"))
        self.assertIsNone(pinger.pid)
        pinger.stop()   # harmless before any start


class TestCrc32c(testtools.TestCase):
    def test_known_vectors(self):
        self.assertEqual(0xE3069283, sctp.crc32c(b"123456789"))
        # RFC 3720, B.4 (iSCSI uses the same CRC32c)
        self.assertEqual(0x8A9136AA, sctp.crc32c(bytes(32)))
        self.assertEqual(0x62A8AB43, sctp.crc32c(b"\xff" * 32))


class TestSctpPackets(testtools.TestCase):
    def test_init_ack_round_trip(self):
        init_ack = sctp.init_chunk(sctp.INIT_ACK, 0xDEADBEEF, 7, cookie=b"cookie")
        wire = sctp.build_packet(sctp.Packet(3333, 40000, 0x01020304, (init_ack,)))
        self.assertEqual(0, len(wire) % 4)
        self.assertEqual(bytes.fromhex("0d05 9c40 01020304"), wire[:8])
        packet = sctp.parse_packet(wire)
        self.assertEqual((3333, 40000, 0x01020304), (packet.src_port, packet.dst_port,
                                                      packet.vtag))
        (chunk,) = packet.chunks
        self.assertEqual(sctp.INIT_ACK, chunk.kind)
        self.assertEqual(0xDEADBEEF, sctp.init_tag_of(chunk))
        self.assertEqual(b"cookie", sctp.cookie_of(chunk))

    def test_checksum_is_crc32c_little_endian(self):
        wire = sctp.build_packet(sctp.Packet(1, 2, 3, (sctp.Chunk(sctp.COOKIE_ACK, b""),)))
        zeroed = wire[:8] + bytes(4) + wire[12:]
        self.assertEqual(struct.pack("<I", sctp.crc32c(zeroed)), wire[8:12])

    def test_chunks_after_a_padded_one(self):
        data = sctp.data_chunk(5, b"abcde")   # 12 + 5 bytes: padded to 20 on the wire
        wire = sctp.build_packet(sctp.Packet(1, 2, 3, (data, sctp.Chunk(sctp.COOKIE_ACK, b""))))
        first, second = sctp.parse_packet(wire).chunks
        self.assertEqual((b"abcde", sctp.DATA_UNFRAGMENTED), (sctp.payload_of(first),
                                                              first.flags))
        self.assertEqual(sctp.COOKIE_ACK, second.kind)

    def test_corrupt_packets_are_refused(self):
        wire = sctp.build_packet(sctp.Packet(1, 2, 3, (sctp.data_chunk(1, b"x"),)))
        exc = self.assertRaises(ValueError, sctp.parse_packet, wire[:-1] + b"y")
        self.assertIn("checksum", str(exc))
        self.assertRaises(ValueError, sctp.parse_packet, wire[:10])
        too_long = wire[:14] + struct.pack("!H", 255) + wire[16:]   # the chunk's length
        exc = self.assertRaises(ValueError, sctp.parse_packet, with_checksum(too_long))
        self.assertIn("bad length 255", str(exc))


def with_checksum(wire: bytes) -> bytes:
    """``wire`` with its checksum made right again."""
    return wire[:8] + struct.pack("<I", sctp.crc32c(wire[:8] + bytes(4) + wire[12:])) + wire[12:]


def fake_machine(folder: str, namespace: str | None, ip: str) -> types.SimpleNamespace:
    ctx = types.SimpleNamespace(log_dir=folder, run_dir=folder, prefix="fsunit",
                                settings=types.SimpleNamespace(state_dir=folder),
                                owner=records.Ownership("fsunit", folder, folder))
    return types.SimpleNamespace(ctx=ctx, namespace=namespace, ip=ip)


class TestNetcatTesterChecks(testtools.TestCase):
    def setUp(self):
        super().setUp()
        folder = self.useFixture(fixtures.TempDir()).path
        self.vm = fake_machine(folder, "fsunit-m1", "20.0.0.5")
        self.other = fake_machine(folder, "fsunit-m2", "20.0.0.6")

    def test_protocol_is_checked(self):
        exc = self.assertRaises(ValueError, probes.NetcatTester, self.vm, self.other, 3333,
                                protocol="icmp")
        self.assertIn("protocol 'icmp'", str(exc))
        self.assertIn("tcp, udp, sctp", str(exc))

    def test_ports_are_checked(self):
        exc = self.assertRaises(ValueError, probes.NetcatTester, self.vm, self.other, 0)
        self.assertIn("dst_port 0", str(exc))
        exc = self.assertRaises(ValueError, probes.NetcatTester, self.vm, self.other, 3333,
                                src_port=70000)
        self.assertIn("src_port 70000", str(exc))

    def test_sctp_keeps_one_source_port(self):
        self.assertIsNone(probes.NetcatTester(self.vm, self.other, 3333, "udp").src_port)
        self.assertEqual(4000, probes.NetcatTester(self.vm, self.other, 3333, "sctp",
                                                   src_port=4000).src_port)
        chosen = probes.NetcatTester(self.vm, self.other, 3333, "sctp").src_port
        self.assertTrue(32768 <= chosen <= 60999, chosen)

    def test_peers_run_in_their_machines_namespaces(self):
        tester = probes.NetcatTester(self.vm, self.other, 3333, "udp", src_port=4000)
        server = tester._peer("server", self.other, [], ready=lambda: True)
        self.assertEqual("fsunit-m2", server.namespace)
        self.assertEqual(["server", "udp", "20.0.0.6", "3333"], server.cmd[-4:])
        self.assertEqual([sys.executable, "-u", "-m", "fullstack.resources.netcat_peer"],
                         server.cmd[:4])
        self.assertEqual("fsunit-m1", tester._peer("client", self.vm, [], lambda: True).namespace)

    def test_nothing_to_stop_before_a_connection(self):
        tester = self.useFixture(probes.NetcatTester(self.vm, self.other, 3333))
        self.assertIsNone(tester.client)
        tester.stop_processes()


def all_stopped(pid: int) -> bool:
    """Whether every thread of ``pid`` is stopped (kill() returns before they all are)."""
    tasks = f"/proc/{pid}/task"
    states = []
    for tid in os.listdir(tasks):
        with open(f"{tasks}/{tid}/stat") as stat:
            states.append(stat.read().rsplit(")", 1)[1].split()[0])
    return all(state in ("T", "t") for state in states)


class TestNetcatTesterOnLoopback(testtools.TestCase):
    """Both peers in this namespace, on 127.0.0.1: real processes, no root (SCTP's raw
    sockets excepted)."""

    def setUp(self):
        super().setUp()
        self.folder = self.useFixture(fixtures.TempDir()).path
        self.here = fake_machine(self.folder, None, "127.0.0.1")

    def netcat(self, protocol: str) -> probes.NetcatTester:
        with socket.socket() as probe:   # a port nothing listens on (for TCP and UDP alike)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return self.useFixture(probes.NetcatTester(self.here, self.here, port, protocol))

    def test_tcp_reuses_its_connection_and_notices_a_silent_server(self):
        tester = self.netcat("tcp")
        tester.establish_connection()
        self.assertTrue(tester.test_connectivity())
        self.assertTrue(tester.test_connectivity())
        self.assertEqual(1, tester.server.output().count("connection from"))
        tester.server.popen.send_signal(signal.SIGSTOP)   # stands for a firewall's DROP
        self.addCleanup(tester.server.popen.send_signal, signal.SIGCONT)
        wait.wait_until_true(lambda: all_stopped(tester.server.pid), timeout=10,
                             exception="the server did not stop on SIGSTOP")
        self.assertTrue(tester.test_no_connectivity())
        tester.server.popen.send_signal(signal.SIGCONT)
        self.assertTrue(tester.test_connectivity())
        self.assertEqual(1, tester.server.output().count("connection from"))

    def test_udp_connects_on_first_use_and_again_after_stop(self):
        tester = self.netcat("udp")
        self.assertTrue(tester.test_connectivity())   # establishes first
        first_client = tester.client.pid
        tester.stop_processes()
        self.assertIsNone(tester.client)
        tester.establish_connection()
        self.assertNotEqual(first_client, tester.client.pid)
        self.assertTrue(tester.test_connectivity())

    @testtools.skipUnless(os.geteuid() == 0, "SCTP's raw sockets need root")
    def test_sctp_association(self):
        tester = self.netcat("sctp")
        tester.establish_connection()
        self.assertTrue(tester.test_connectivity())
        self.assertIn(f"association from 127.0.0.1:{tester.src_port}", tester.server.output())

    def test_refused_connection_fails_clearly_and_is_no_connectivity(self):
        tester = self.netcat("tcp")
        # A "server" that does not listen: the client's connect is refused.
        tester.server = daemon.ProcessFixture(
            "silent", [sys.executable, "-c", "import time; time.sleep(60)"],
            records.Ownership("fsunit", self.folder, self.folder))
        tester.server.start()
        exc = self.assertRaises(probes.ConnectionFailed, tester.establish_connection)
        self.assertIn("ConnectionRefusedError", str(exc))
        self.assertIsNone(tester.client)
        self.assertFalse(tester.test_connectivity())
        self.assertTrue(tester.test_no_connectivity())


class TestMeasuredFlowsOnLoopback(testtools.TestCase):
    """measure_throughput, measure_packet_rate and dscp_marks with both ends on
    127.0.0.1: real processes, paced as asked, nothing limiting them."""

    def setUp(self):
        super().setUp()
        self.here = fake_machine(self.useFixture(fixtures.TempDir()).path, None, "127.0.0.1")

    def test_udp_arrives_at_the_rate_offered(self):
        mbps = probes.measure_throughput(self.here, self.here, seconds=1.5, offered_mbps=8)
        # Payload only: 1400 of every 1428 bytes offered (IP and UDP headers).
        self.assertTrue(5.0 < mbps < 9.0, f"measured {mbps} Mbit/s of 8 offered")

    def test_tcp_goes_as_fast_as_it_can(self):
        mbps = probes.measure_throughput(self.here, self.here, protocol="tcp", seconds=1.0)
        self.assertGreater(mbps, 50.0)

    def test_packets_arrive_at_the_rate_offered(self):
        pps = probes.measure_packet_rate(self.here, self.here, seconds=1.5, offered_pps=500)
        self.assertTrue(300 < pps < 650, f"measured {pps} packets/s of 500 offered")

    def test_unmarked_packets_have_dscp_zero(self):
        self.assertEqual({0}, probes.dscp_marks(self.here, self.here, count=3))

    def test_only_udp_and_tcp(self):
        self.assertRaises(ValueError, probes.measure_throughput, self.here, self.here,
                          protocol="sctp")
