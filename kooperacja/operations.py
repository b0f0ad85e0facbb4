"""Operator's view of the broker: queue depths and dead letters, through AMQP only."""

from __future__ import annotations

from typing import Any

import aio_pika

from kooperacja.processes import SERVICES
from shared.dead_letters import dead_letters, describe, queue_stat
from shared.topology import EVENT_LOG_STREAM, dead_letter_queue_name, queue_name

__all__ = ["CONSUMING", "dead_letters", "describe", "queue_stats"]

# Intake consumes too (access grants, diagnosis completed), so every service has queues.
CONSUMING = SERVICES


async def queue_stats(amqp_url: str) -> list[dict[str, Any]]:
    """Depth and consumers of every service queue and dead-letter queue (passive declare)."""
    connection = await aio_pika.connect(amqp_url)
    stats = []
    try:
        for service in CONSUMING:
            for name in (queue_name(service), dead_letter_queue_name(service)):
                stats.append(await queue_stat(connection, name))
        channel = await connection.channel()
        try:
            await channel.declare_queue(EVENT_LOG_STREAM, passive=True)
            stats.append({"queue": EVENT_LOG_STREAM, "messages": None, "consumers": None})
        except aio_pika.exceptions.ChannelClosed:
            pass
    finally:
        await connection.close()
    return stats
