"""The queues and exchanges both ends declare, so either may come up first."""

from __future__ import annotations

from pika.adapters.blocking_connection import BlockingChannel


def declare_topic_queue(channel: BlockingChannel, topic: str) -> str:
    # Not auto-delete: calls and casts wait in the queue while servers reconnect.
    # Not durable: nothing here outlives a broker restart, and both ends re-declare.
    channel.queue_declare(topic, durable=False, auto_delete=False)
    return topic


def declare_notify_exchange(channel: BlockingChannel, exchange: str) -> None:
    channel.exchange_declare(exchange, exchange_type="direct", durable=False)


def declare_listener_queue(channel: BlockingChannel, exchange: str, events: tuple[str, ...]) -> str:
    """A queue of this listener's own, bound to its events, gone when it disconnects."""
    declare_notify_exchange(channel, exchange)
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    for event in events:
        channel.queue_bind(queue, exchange, routing_key=event)
    return queue
