"""The per-test RabbitMQ vhost admits its own user and nobody else's."""

from __future__ import annotations

import urllib.parse

import pika
import pika.exceptions

from fullstack import base
from fullstack.resources import rabbitmq


class TestRabbitmqVhost(base.HarnessTestCase):
    def _connect(self, url: str) -> pika.BlockingConnection:
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        return pika.BlockingConnection(params)

    def test_user_reaches_its_vhost_only(self):
        vhost = self.useFixture(rabbitmq.RabbitmqVhost(self.settings.rabbit_admin_url,
                                                       self.prefix))
        conn = self._connect(vhost.transport_url())
        self.addCleanup(conn.close)
        channel = conn.channel()
        channel.queue_declare("probe", auto_delete=True)
        channel.basic_publish("", "probe", b"hi")
        _, _, body = channel.basic_get("probe", auto_ack=True)
        self.assertEqual(b"hi", body)

        other = vhost.transport_url().rsplit("/", 1)[0] + "/" + urllib.parse.quote("/", safe="")
        self.assertRaises(pika.exceptions.AMQPConnectionError, self._connect, other)

    def test_vhost_and_user_removed_at_cleanup(self):
        fixture = rabbitmq.RabbitmqVhost(self.settings.rabbit_admin_url, self.prefix)
        with fixture:
            self.assertIn(fixture.vhost, fixture.api.vhosts())
            self.assertIn(fixture.user, fixture.api.users())
        self.assertNotIn(fixture.vhost, fixture.api.vhosts())
        self.assertNotIn(fixture.user, fixture.api.users())
