"""Which port a machine uses: its own, or the one the test gave it (no root: no plugging)."""

from __future__ import annotations

import types

import testtools

from fullstack import machine


class FakeSafeClient:
    def __init__(self):
        self.created: list[dict] = []
        self.updated: list[tuple[str, dict]] = []

    def create_port(self, tenant_id, network_id, hostname=None, **attrs):
        port = dict(attrs, id="new-port", tenant_id=tenant_id, network_id=network_id,
                    **{"binding:host_id": hostname})
        self.created.append(port)
        return port

    def update_port(self, port_id, **attrs):
        self.updated.append((port_id, attrs))
        return dict(attrs, id=port_id)


def on_host(safe_client: FakeSafeClient, neutron_port: dict | None = None):
    host = types.SimpleNamespace(hostname="host-2", site=types.SimpleNamespace(ctx=None))
    return machine.FakeFullstackMachine(host, "net-1", "tenant", safe_client,
                                        neutron_port=neutron_port)


class TestMachinePort(testtools.TestCase):
    def test_creates_its_port_by_default(self):
        safe = FakeSafeClient()
        port = on_host(safe)._bound_port()
        self.assertEqual("new-port", port["id"])
        self.assertEqual(("host-2", "compute:fullstack"),
                         (port["binding:host_id"], port["device_owner"]))
        self.assertEqual([], safe.updated)

    def test_binds_the_port_it_was_given(self):
        safe = FakeSafeClient()
        port = on_host(safe, {"id": "test-port", "device_owner": ""})._bound_port()
        self.assertEqual("test-port", port["id"])
        self.assertEqual([("test-port", {"binding:host_id": "host-2",
                                         "device_owner": "compute:fullstack"})], safe.updated)
        self.assertEqual([], safe.created)   # nothing of its own to delete at cleanup

    def test_keeps_the_given_ports_device_owner(self):
        safe = FakeSafeClient()
        on_host(safe, {"id": "test-port", "device_owner": "compute:nova"})._bound_port()
        self.assertEqual([("test-port", {"binding:host_id": "host-2"})], safe.updated)


class TestRenewLease(testtools.TestCase):
    def test_a_machine_without_dhcp_says_so(self):
        error = self.assertRaises(RuntimeError, on_host(FakeSafeClient()).renew_lease)
        self.assertIn("on host-2>: renew_lease() needs a machine booted with use_dhcp=True",
                      str(error))
