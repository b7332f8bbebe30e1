"""RPC over AMQP 0-9-1 (pika) with JSON bodies: calls, casts and notifications.

``from neutrino.common import rpc`` gives the whole API:

- ``RpcClient(url, topic)``: ``call`` waits for a reply, ``cast`` does not.
- ``RpcServer(url, topic, endpoint)``: serves a topic with an endpoint's methods.
- ``Notifier`` / ``NotificationListener``: events broadcast on an exchange.

Each client, server, notifier and listener owns one connection and the thread
that drives it, and reconnects by itself (see ``connection``).
"""

from neutrino.common.rpc.client import RpcClient
from neutrino.common.rpc.errors import RemoteError, RpcError, RpcTimeout
from neutrino.common.rpc.notification import NotificationListener, Notifier
from neutrino.common.rpc.server import RpcServer

__all__ = [
    "NotificationListener",
    "Notifier",
    "RemoteError",
    "RpcClient",
    "RpcError",
    "RpcServer",
    "RpcTimeout",
]
