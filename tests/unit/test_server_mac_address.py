"""MAC addresses for ports: the base MAC, uniqueness per network, requested MACs."""

from __future__ import annotations

import itertools
import random

import sqlalchemy as sa
import testtools

from neutrino.server.db import models
from neutrino.server.lib import errors
from neutrino.server.plugins.ml2 import mac_address
from tests.unit import test_server_support as support


class TestRandomMac(testtools.TestCase):
    def test_keeps_the_oui_and_randomises_zero_octets(self):
        macs = {mac_address.random_mac("fa:16:3e:00:00:00", random.Random(seed))
                for seed in range(20)}
        self.assertEqual(20, len(macs))
        for mac in macs:
            self.assertTrue(mac.startswith("fa:16:3e:"), mac)
            self.assertRegex(mac, r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")

    def test_keeps_non_zero_octets_after_the_oui(self):
        mac = mac_address.random_mac("fa:16:3e:ab:00:00", random.Random(1))
        self.assertTrue(mac.startswith("fa:16:3e:ab:"), mac)


class TestMacGenerator(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture()).server
        self.network = support.create_network(self.server)
        self.taken = support.create_port(self.server, network_id=self.network["id"])

    def _generate(self, candidates):
        generator = mac_address.MacGenerator("fa:16:3e:00:00:00", lambda base: next(candidates))
        return self.server.db.run(lambda s: generator.generate(s, self.network["id"]))

    def test_a_mac_in_use_on_the_network_is_skipped(self):
        taken = self.taken["mac_address"]
        candidates = iter([taken, taken, "fa:16:3e:00:00:01"])
        self.assertEqual("fa:16:3e:00:00:01", self._generate(candidates))

    def test_gives_up_after_a_bounded_number_of_tries(self):
        error = self.assertRaises(errors.ServiceUnavailable, self._generate,
                                  itertools.repeat(self.taken["mac_address"]))
        self.assertEqual("MacAddressGenerationFailure", error.error_type)

    def test_the_same_mac_is_fine_on_another_network(self):
        other = support.create_network(self.server)
        port = support.create_port(self.server, network_id=other["id"],
                                   mac_address=self.taken["mac_address"])
        self.assertEqual(self.taken["mac_address"], port["mac_address"])

    def test_requested_mac_in_use_is_409(self):
        error = self.assertRaises(errors.Conflict, support.create_port, self.server,
                                  network_id=self.network["id"],
                                  mac_address=self.taken["mac_address"].upper())
        self.assertEqual("MacAddressInUse", error.error_type)

    def test_database_refuses_a_duplicate_mac_on_a_network(self):
        # The constraint is what settles two requests that both found the MAC free.
        def insert(session):
            session.add(models.Port(network_id=self.network["id"],
                                    mac_address=self.taken["mac_address"]))
            session.flush()
        db = self.server.db
        db.max_attempts = 1
        self.assertRaises(sa.exc.IntegrityError, db.run, insert)
