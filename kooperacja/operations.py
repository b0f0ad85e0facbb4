"""Operator's view of the broker: queue depths and dead letters, through AMQP only."""

from __future__ import annotations

import json
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from kooperacja.processes import SERVICES
from shared.topology import EVENT_LOG_STREAM, dead_letter_queue_name, queue_name

# Intake consumes too (access grants, diagnosis completed), so every service has queues.
CONSUMING = SERVICES


async def queue_stats(amqp_url: str) -> list[dict[str, Any]]:
    """Depth and consumers of every service queue and dead-letter queue (passive declare)."""
    connection = await aio_pika.connect(amqp_url)
    stats = []
    try:
        for service in CONSUMING:
            for name in (queue_name(service), dead_letter_queue_name(service)):
                channel = await connection.channel()
                try:
                    q = await channel.declare_queue(name, passive=True)
                    result = q.declaration_result
                    stats.append(
                        {
                            "queue": name,
                            "messages": result.message_count,
                            "consumers": result.consumer_count,
                        }
                    )
                except aio_pika.exceptions.ChannelClosed:
                    stats.append({"queue": name, "messages": None, "consumers": None})
        channel = await connection.channel()
        try:
            await channel.declare_queue(EVENT_LOG_STREAM, passive=True)
            stats.append({"queue": EVENT_LOG_STREAM, "messages": None, "consumers": None})
        except aio_pika.exceptions.ChannelClosed:
            pass
    finally:
        await connection.close()
    return stats


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
        while (message := await dlq.get(no_ack=False, fail=False, timeout=5)) is not None:
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
