"""The ack window against a channel that behaves as RabbitMQ's does with acks: an ack naming
a tag that is not outstanding closes the channel; `multiple` settles all outstanding up to it."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from shared.acks import AckWindow


class ChannelClosed(Exception):
    pass


@dataclass(eq=False)
class Channel:
    outstanding: set[int] = field(default_factory=set)
    frames: list[tuple[int, bool]] = field(default_factory=list)
    next_tag: int = 1

    def deliver(self) -> Delivery:
        delivery = Delivery(self.next_tag, self)
        self.outstanding.add(self.next_tag)
        self.next_tag += 1
        return delivery

    def settle(self, tag: int, multiple: bool) -> None:
        if tag not in self.outstanding:
            raise ChannelClosed(f"PRECONDITION_FAILED - unknown delivery tag {tag}")
        self.frames.append((tag, multiple))
        if multiple:
            self.outstanding -= {t for t in self.outstanding if t <= tag}
        else:
            self.outstanding.discard(tag)


@dataclass
class Delivery:
    delivery_tag: int
    channel: Channel

    async def ack(self, multiple: bool = False) -> None:
        await asyncio.sleep(0)  # a frame written: other tasks may run meanwhile
        self.channel.settle(self.delivery_tag, multiple)

    def nack(self) -> None:
        self.channel.settle(self.delivery_tag, False)


async def test_a_committed_batch_is_acked_with_one_frame() -> None:
    window, channel = AckWindow(), Channel()
    batch = [channel.deliver() for _ in range(50)]
    await asyncio.gather(*(window.ack(d) for d in batch))
    assert channel.frames == [(50, True)]
    assert not channel.outstanding


async def test_an_unsettled_delivery_stops_the_run_and_nothing_waits_for_it() -> None:
    window, channel = AckWindow(), Channel()
    d = [channel.deliver() for _ in range(7)]
    await asyncio.gather(*(window.ack(x) for x in (d[0], d[1], d[3], d[4])))
    # Tag 3 is still being handled: 1-2 in one frame, 4 and 5 alone, 3 never acked.
    assert channel.frames == [(2, True), (4, False), (5, False)]
    assert channel.outstanding == {3, 6, 7}
    d[2].nack()  # retried: settled by its own frame
    window.settled(d[2])
    await asyncio.gather(*(window.ack(x) for x in (d[5], d[6])))
    assert channel.frames[-1] == (7, True)
    assert not channel.outstanding


async def test_a_late_commit_below_acked_stragglers_names_itself() -> None:
    window, channel = AckWindow(), Channel()
    d = [channel.deliver() for _ in range(4)]
    await asyncio.gather(window.ack(d[0]), window.ack(d[2]), window.ack(d[3]))
    await window.ack(d[1])
    assert channel.frames == [(1, True), (3, False), (4, False), (2, True)]
    assert not channel.outstanding


async def test_channels_are_counted_apart() -> None:
    window, first, second = AckWindow(), Channel(), Channel()
    a = [first.deliver() for _ in range(3)]
    b = [second.deliver() for _ in range(2)]  # a reconnected channel starts at 1 again
    await asyncio.gather(*(window.ack(x) for x in [*a, *b]))
    assert first.frames == [(3, True)] and second.frames == [(2, True)]


@pytest.mark.parametrize("seed", range(20))
async def test_any_order_of_commits_and_retries_settles_everything_without_a_bad_frame(
    seed: int,
) -> None:
    rng = random.Random(seed)
    window, channel = AckWindow(), Channel()
    pending = [channel.deliver() for _ in range(300)]
    rng.shuffle(pending)  # batches do not follow delivery order
    while pending:
        size = rng.randint(1, 40)
        batch, pending = pending[:size], pending[size:]
        retried = [d for d in batch if rng.random() < 0.05]
        for d in retried:
            d.nack()
            window.settled(d)
            pending.append(channel.deliver())  # the broker delivers it again, a new tag
        await asyncio.gather(*(window.ack(d) for d in batch if d not in retried))
    assert not channel.outstanding
    assert len(channel.frames) < channel.next_tag - 1
