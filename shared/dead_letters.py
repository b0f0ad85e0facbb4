"""A service's queues as its operator sees them: depth and consumers, and the dead letters to
inspect, replay (back to that service's own queue only) or purge; over AMQP only. Used by the
services' operator API and by `kooperacja status` / `kooperacja dlq`."""

from __future__ import annotations

import json
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.topology import dead_letter_queue_name, queue_name


async def queue_stat(connection: aio_pika.abc.AbstractConnection, name: str) -> dict[str, Any]:
    """Depth and consumers of one queue (a passive declare); None for both when it is missing."""
    channel = await connection.channel()
    try:
        result = (await channel.declare_queue(name, passive=True)).declaration_result
        return {"queue": name, "messages": result.message_count, "consumers": result.consumer_count}
    except aio_pika.exceptions.ChannelClosed:
        return {"queue": name, "messages": None, "consumers": None}
    finally:
        if not channel.is_closed:
            await channel.close()


def describe(message: AbstractIncomingMessage) -> dict[str, Any]:
    headers = dict(message.headers or {})
    try:
        envelope = json.loads(message.body)
        event_type = envelope.get("type") if isinstance(envelope, dict) else None
        event_id = envelope.get("id") if isinstance(envelope, dict) else None
    except ValueError:
        event_type = event_id = None
    return {
        "message_id": message.message_id,
        "event_id": event_id,
        "type": event_type,
        "routing_key": _text(headers.get("x-original-routing-key")),
        "error": _text(headers.get("x-error")),
        "attempts": headers.get("x-attempts"),
        "failed_at": _text(headers.get("x-failed-at")),
        "body": message.body.decode("utf-8", errors="replace")[:2000],
    }


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def dead_letters(
    amqp_url: str, service: str, *, action: str, message_id: str | None = None
) -> list[dict[str, Any]]:
    """list/show leave messages in place; replay sends them back to the service's own queue
    (only that service sees them again); purge removes them."""
    connection = await aio_pika.connect(amqp_url)
    out: list[dict[str, Any]] = []
    try:
        channel = await connection.channel(publisher_confirms=True)
        dlq = await channel.declare_queue(dead_letter_queue_name(service), passive=True)
        held: list[AbstractIncomingMessage] = []
        # Only the messages there now: a replayed one that fails at once comes back to the
        # queue while this runs, and must not be taken (and replayed) again.
        waiting = dlq.declaration_result.message_count
        for _ in range(waiting):
            message = await dlq.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            if message_id and message_id not in (message.message_id, describe(message)["event_id"]):
                held.append(message)
                continue
            out.append(describe(message))
            if action == "replay":
                headers = {
                    k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")
                }
                headers["x-replayed-from"] = dead_letter_queue_name(service)
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        body=message.body,
                        headers=headers,
                        content_type=message.content_type,
                        message_id=message.message_id,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=queue_name(service),
                )
                await message.ack()
            elif action == "purge":
                await message.ack()
            else:
                held.append(message)
        for message in held:
            await message.nack(requeue=True)
    finally:
        await connection.close()
    return out
