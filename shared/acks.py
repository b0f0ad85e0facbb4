"""Acks with as few frames as the broker allows.

A batch commits many deliveries at once; acking each is one frame and one socket write each,
a large share of a hop's cost. RabbitMQ numbers the deliveries of a channel 1, 2, 3, … and
`basic.ack(multiple=True)` settles every outstanding one up to a tag. So once a batch has
committed, the run of consecutive tags since the last ack that are all committed (or already
settled one by one) is acked with ONE frame. A tag not yet committed (still in a later batch,
waiting for its retry, being dead-lettered) ends the run; committed tags beyond it are acked
one by one, so nothing waits for a slow neighbour and nothing uncommitted is ever acked.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol


class Delivery(Protocol):
    """What an aio-pika IncomingMessage offers; `channel` is the channel it came on."""

    delivery_tag: int | None
    channel: Any

    async def ack(self, multiple: bool = False) -> None: ...


@dataclass
class _Channel:
    acked_up_to: int = 0  # every tag up to here is settled
    committed: dict[int, Delivery] = field(default_factory=dict)  # waiting for their ack
    settled: set[int] = field(default_factory=set)  # above acked_up_to, settled one by one
    flush: asyncio.Future[None] | None = None  # the ack frame the next batch waits for
    # Flushes send in the order they were started: a multiple ack overtaken by a later one
    # would name a tag no longer outstanding, which the broker punishes by closing the channel.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)


class AckWindow:
    def __init__(self) -> None:
        # Per channel: a reconnected channel starts again at tag 1, with a state of its own.
        self._channels: weakref.WeakKeyDictionary[Any, _Channel] = weakref.WeakKeyDictionary()

    def _state(self, delivery: Delivery) -> _Channel:
        state = self._channels.get(delivery.channel)
        if state is None:
            state = self._channels[delivery.channel] = _Channel()
        return state

    async def ack(self, delivery: Delivery) -> None:
        """Ack a committed delivery: returns once the frame that covers it is sent. All the
        deliveries of a batch call this in one turn of the loop, so one flush serves them."""
        if delivery.delivery_tag is None:
            await delivery.ack()
            return
        state = self._state(delivery)
        state.committed[delivery.delivery_tag] = delivery
        if state.flush is None:
            state.flush = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._start_flush, state)
        await asyncio.shield(state.flush)

    def settled(self, delivery: Delivery) -> None:
        """A delivery settled by its own frame (nacked for a retry, or dead-lettered and
        acked): a run of consecutive tags may now pass it."""
        if delivery.delivery_tag is not None:
            state = self._state(delivery)
            if delivery.delivery_tag > state.acked_up_to:
                state.settled.add(delivery.delivery_tag)

    def _start_flush(self, state: _Channel) -> None:
        done = state.flush
        state.flush = None
        assert done is not None
        task = asyncio.ensure_future(self._flush(state))
        task.add_done_callback(lambda t: _settle(done, t))

    async def _flush(self, state: _Channel) -> None:
        async with state.sending:
            top: Delivery | None = None
            while (tag := state.acked_up_to + 1) in state.committed or tag in state.settled:
                if tag in state.committed:
                    top = state.committed.pop(tag)
                state.settled.discard(tag)
                state.acked_up_to = tag
            stragglers = sorted(state.committed.items())
            state.committed.clear()
            state.settled.update(tag for tag, _ in stragglers)
            if top is not None:
                await top.ack(multiple=True)
            for _, delivery in stragglers:
                await delivery.ack()


def _settle(done: asyncio.Future[None], task: asyncio.Task[None]) -> None:
    if done.done():
        return
    if task.cancelled():
        done.cancel()
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(None)
