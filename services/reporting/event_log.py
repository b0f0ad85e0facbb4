"""Reading the event log (the RabbitMQ stream) from its first offset up to an end marker.

A marker is published into the stream through AMQP's default exchange when reading starts (the
topic exchange's subscribers never see it); everything before it is the log as it stood then.
The marker works the same over both transports and on RabbitMQ 3.10, whose stream protocol has
no command for the committed offset yet.

Two transports:
- the stream protocol (port 5552, plugin rabbitmq_stream): chunks of messages, credit per chunk;
- AMQP 0.9.1 (`x-stream-offset`), the fallback when the stream port cannot be reached.

The stream reader frames its control commands with rstream's schema, but decodes the deliveries
itself: the log's chunks hold one or two events each (live events are published one by one), and
rstream's generic frame decoder with one credit write per chunk cost ~150 µs a chunk, three times
the reading over AMQP.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit
from uuid import uuid4

import aiormq
from aiormq.abc import DeliveredMessage
from rstream import schema
from rstream.constants import Key, OffsetType
from rstream.encoding import decode_frame, encode_frame

from shared.topology import EVENT_LOG_STREAM

log = logging.getLogger(__name__)

MARKER_HEADER = "x-kooperacja-rebuild-marker"
# A marker's body: not JSON, so no reader can take it for an event.
MARKER_PREFIX = b"kooperacja-rebuild-marker:"
STREAM_PORT = 5552


class EventLogUnavailable(ConnectionError):
    """The stream protocol cannot be used (port closed, plugin off, stream not on that node)."""


async def publish_marker(channel: aiormq.abc.AbstractChannel) -> bytes:
    """Put a new end marker at the end of the stream; returns its body."""
    marker = str(uuid4())
    body = MARKER_PREFIX + marker.encode()
    # Straight into the stream through the default exchange: subscribers of the topic
    # exchange never see the marker.
    await channel.basic_publish(
        body,
        routing_key=EVENT_LOG_STREAM,
        properties=aiormq.spec.Basic.Properties(
            headers={MARKER_HEADER: marker}, message_id=marker, delivery_mode=2
        ),
    )
    return body


def stream_url_of(amqp_url: str, port: int = STREAM_PORT) -> str:
    """The stream protocol's URL beside an AMQP URL: same host, user and virtual host."""
    parts = urlsplit(amqp_url)
    user = quote(unquote(parts.username or "guest"), safe="")
    password = quote(unquote(parts.password or "guest"), safe="")
    path = parts.path if parts.path not in ("", "/") else "/"
    return f"rabbitmq-stream://{user}:{password}@{parts.hostname or '127.0.0.1'}:{port}{path}"


# --- AMQP 0.9.1 ------------------------------------------------------------------------------


class AmqpReader:
    """Reads the stream as an AMQP 0.9.1 consumer, on aiormq directly beneath aio-pika: a
    rebuild reads every message ever published, and aio-pika's message objects cost more than
    the rest of the replay."""

    transport = "amqp"

    def __init__(self, amqp_url: str, *, prefetch: int, idle_timeout: float = 30) -> None:
        self.amqp_url = amqp_url
        self.prefetch = prefetch
        self.idle_timeout = idle_timeout

    async def batches(self, batch_size: int) -> AsyncIterator[list[bytes]]:
        connection = await aiormq.connect(self.amqp_url)
        try:
            channel = await connection.channel()
            # Streams require a prefetch: it is the consumer's credit.
            await channel.basic_qos(prefetch_count=self.prefetch)
            await channel.queue_declare(EVENT_LOG_STREAM, passive=True)
            marker = await publish_marker(channel)
            arrived: asyncio.Queue[DeliveredMessage] = asyncio.Queue()

            async def on_message(message: DeliveredMessage) -> None:
                arrived.put_nowait(message)

            await channel.basic_consume(
                EVENT_LOG_STREAM,
                on_message,
                no_ack=False,
                arguments={"x-stream-offset": "first"},
            )
            batch: list[bytes] = []
            unacked = 0
            while True:
                try:
                    message = await asyncio.wait_for(arrived.get(), timeout=self.idle_timeout)
                except TimeoutError as exc:
                    raise RuntimeError("the event log went quiet before its end marker") from exc
                # Acks on a stream remove nothing, they only return credit: one for many.
                unacked += 1
                if unacked >= max(1, self.prefetch // 2):
                    await channel.basic_ack(message.delivery.delivery_tag, multiple=True)
                    unacked = 0
                if message.body == marker:
                    if batch:
                        yield batch
                    return
                batch.append(message.body)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        finally:
            await connection.close()


# --- the stream protocol ---------------------------------------------------------------------

_SUBSCRIPTION = 1
_DELIVER = Key.Deliver.value
_HEARTBEAT = Key.Heartbeat.value
# key, version, subscription id, then the chunk header (osiris): magic, type, entries, records,
# timestamp, epoch, first offset, crc, data length, trailer length, reserved
_CHUNK = struct.Struct(">HHBbbHIqQQIIII")


@dataclass(frozen=True)
class StreamAddress:
    host: str
    port: int
    vhost: str
    username: str
    password: str

    @classmethod
    def parse(cls, url: str) -> StreamAddress:
        parts = urlsplit(url)
        vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or STREAM_PORT,
            vhost=vhost,
            username=unquote(parts.username or "guest"),
            password=unquote(parts.password or "guest"),
        )


class StreamReader:
    """Reads the stream over the stream protocol, in `readers` ranges of offsets at once.

    The end marker goes in over AMQP (`amqp_url`) while a subscription at the stream's last
    chunk watches for it, which gives its offset; the offsets before it are then read over
    `readers` connections side by side. Order does not matter to the projections (every column
    merges by a rule independent of it), and the broker serves each connection from its own
    process: it spends more on a chunk than the reader does, so several of them read faster.
    """

    transport = "stream"

    def __init__(
        self,
        stream_url: str,
        amqp_url: str,
        *,
        readers: int = 4,
        credit: int = 200,
        connect_timeout: float = 3,
        idle_timeout: float = 30,
    ) -> None:
        self.address = StreamAddress.parse(stream_url)
        self.amqp_url = amqp_url
        self.readers = readers
        self.credit = credit
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self._correlation = 0

    async def batches(self, batch_size: int) -> AsyncIterator[list[bytes]]:
        end = await self._place_marker()
        bounds = [end * i // self.readers for i in range(self.readers + 1)]
        read: asyncio.Queue[list[bytes] | Exception | None] = asyncio.Queue(4 * self.credit)
        tasks = [
            asyncio.create_task(self._read_range(start, stop, read))
            for start, stop in itertools.pairwise(bounds)
            if stop > start
        ]
        try:
            running, batch = len(tasks), []
            while running:
                bodies = await read.get()
                if isinstance(bodies, Exception):
                    raise bodies
                if bodies is None:
                    running -= 1
                    continue
                batch.extend(bodies)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _place_marker(self) -> int:
        """Publish the end marker and return its offset."""
        reader, writer = await self._connect()
        try:
            await self._subscribe(reader, writer, schema.OffsetSpec(OffsetType.LAST))
            amqp = await aiormq.connect(self.amqp_url)
            try:
                marker = await publish_marker(await amqp.channel())
            finally:
                await amqp.close()
            async for first, _, bodies in self._chunks(reader, writer):
                for i, body in enumerate(bodies):
                    if body == marker:
                        return first + i
            raise AssertionError("unreachable: _chunks ends only by an error")
        finally:
            await _close(writer)

    async def _read_range(
        self, start: int, stop: int, out: asyncio.Queue[list[bytes] | Exception | None]
    ) -> None:
        """Put the bodies at offsets start..stop-1 into `out`, then None (or the error)."""
        try:
            reader, writer = await self._connect()
            try:
                spec = schema.OffsetSpecOffset(OffsetType.OFFSET, start)
                await self._subscribe(reader, writer, spec)
                async for first, records, bodies in self._chunks(reader, writer):
                    # a chunk may begin before `start` and end after `stop`
                    taken = bodies[max(start - first, 0) : max(stop - first, 0)]
                    if taken:
                        await out.put(taken)
                    if first + records >= stop:
                        break
            finally:
                await _close(writer)
        except Exception as exc:
            await out.put(exc)
        else:
            await out.put(None)

    async def _chunks(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> AsyncIterator[tuple[int, int, list[bytes]]]:
        """(first offset, records, bodies) of each chunk delivered, giving credit back."""
        owed = 0  # chunks taken and not yet given back as credit
        async for frames in self._frames(reader):
            for frame in frames:
                key = int.from_bytes(frame[:2], "big")
                if key == _HEARTBEAT:
                    writer.write(_frame(frame[:4]))
                elif key != _DELIVER:
                    self._on_control_frame(frame)
                else:
                    owed += 1
                    yield _messages_of(frame)
            if owed >= self.credit // 2:  # one credit frame for many chunks
                writer.write(encode_frame(schema.Credit(_SUBSCRIPTION, owed)))
                owed = 0

    async def _frames(self, reader: asyncio.StreamReader) -> AsyncIterator[list[bytes]]:
        """The frames as they come, many per read: one await per read, not per frame."""
        buffer = b""
        while True:
            async with asyncio.timeout(self.idle_timeout):
                data = await reader.read(1 << 20)
            if not data:
                raise ConnectionError("the broker closed the event log's connection")
            buffer += data
            frames, position = [], 0
            while len(buffer) - position >= 4:
                size = int.from_bytes(buffer[position : position + 4], "big")
                if len(buffer) - position - 4 < size:
                    break
                frames.append(buffer[position + 4 : position + 4 + size])
                position += 4 + size
            buffer = buffer[position:]
            yield frames

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        a = self.address
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(a.host, a.port, limit=2**22), self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise EventLogUnavailable(f"stream port {a.host}:{a.port}: {exc!r}") from exc
        try:
            await self._request(reader, writer, schema.PeerProperties(self._next(), properties=[]))
            await self._request(reader, writer, schema.SaslHandshake(self._next()))
            credentials = b"\0" + a.username.encode() + b"\0" + a.password.encode()
            await self._request(
                reader, writer, schema.SaslAuthenticate(self._next(), "PLAIN", credentials)
            )
            tune = decode_frame(await self._read_frame(reader))
            assert isinstance(tune, schema.Tune), tune
            # No heartbeats: a rebuild is short, and its reads keep the connection busy.
            writer.write(encode_frame(schema.Tune(frame_max=tune.frame_max, heartbeat=0)))
            await self._request(reader, writer, schema.Open(self._next(), a.vhost))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            writer.close()
            raise EventLogUnavailable(f"stream protocol at {a.host}:{a.port}: {exc!r}") from exc
        return reader, writer

    async def _subscribe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        offset: schema.OffsetSpec,
    ) -> None:
        try:
            await self._request(
                reader,
                writer,
                schema.Subscribe(
                    self._next(),
                    subscription_id=_SUBSCRIPTION,
                    stream=EVENT_LOG_STREAM,
                    offset_spec=offset,
                    credit=self.credit,
                    properties=[],
                ),
            )
        except ValueError as exc:
            raise EventLogUnavailable(f"cannot subscribe to {EVENT_LOG_STREAM}: {exc}") from exc

    async def _request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: schema.Frame
    ) -> schema.Frame:
        writer.write(encode_frame(request))
        await writer.drain()
        response = decode_frame(await self._read_frame(reader))
        code = getattr(response, "response_code", 1)
        if code != 1:  # 1 = OK
            raise ValueError(f"{type(request).__name__} answered with code {code}")
        return response

    async def _read_frame(self, reader: asyncio.StreamReader) -> bytes:
        size = await asyncio.wait_for(reader.readexactly(4), self.idle_timeout)
        return await reader.readexactly(int.from_bytes(size, "big"))

    def _on_control_frame(self, frame: bytes) -> None:
        decoded = decode_frame(frame)
        if isinstance(decoded, schema.Close | schema.MetadataUpdate):
            raise RuntimeError(f"the event log went away while reading it: {decoded}")
        log.debug("event log: ignored %s", decoded)

    def _next(self) -> int:
        self._correlation += 1
        return self._correlation


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _messages_of(frame: bytes) -> tuple[int, int, list[bytes]]:
    """The first offset, the number of records and the bodies of the messages of one Deliver
    frame (a chunk of the stream)."""
    (_, _, _, _, chunk_type, entries, records, _, _, first, crc, length, _, _) = _CHUNK.unpack_from(
        frame
    )
    data = memoryview(frame)[_CHUNK.size : _CHUNK.size + length]
    if chunk_type != 0:  # tracking chunks (stored offsets) carry no messages
        return first, records, []
    if zlib.crc32(data) != crc & 0xFFFFFFFF:
        raise ValueError("a chunk of the event log failed its checksum")
    bodies = []
    position = 0
    for _ in range(entries):
        if data[position] & 0x80:
            raise ValueError("sub-batched (compressed) entries are not published to this log")
        size = int.from_bytes(data[position : position + 4], "big")
        position += 4
        bodies.append(_body_of(data[position : position + size]))
        position += size
    return first, records, bodies


def _body_of(message: memoryview) -> bytes:
    """The application data of an AMQP 1.0 message as the broker stores it: the sections are
    skipped by their sizes up to the data section."""
    position = 0
    end = len(message)
    while position < end:
        # a section: 0x00 0x53 <descriptor code>, then its value
        code = message[position + 2]
        constructor = message[position + 3]
        position += 4
        if code == 0x75:  # data: binary
            if constructor == 0xA0:
                size = message[position]
                return bytes(message[position + 1 : position + 1 + size])
            size = int.from_bytes(message[position : position + 4], "big")
            return bytes(message[position + 4 : position + 4 + size])
        if constructor in (0xC0, 0xC1):  # list8/map8: size byte, then that many bytes
            position += 1 + message[position]
        elif constructor in (0xD0, 0xD1):  # list32/map32
            position += 4 + int.from_bytes(message[position : position + 4], "big")
        elif constructor == 0x45:  # list0
            pass
        else:
            raise ValueError(f"unexpected AMQP 1.0 section 0x{code:02x} (0x{constructor:02x})")
    return b""


async def read_event_log(
    amqp_url: str, stream_url: str | None, *, batch_size: int, prefetch: int
) -> AsyncIterator[list[bytes]]:
    """The log up to a marker placed now, in batches: over the stream protocol when
    `stream_url` is given and usable, otherwise (logged) over AMQP."""
    if stream_url:
        batches = StreamReader(stream_url, amqp_url).batches(batch_size)
        try:
            first = await anext(batches)
        except StopAsyncIteration:
            return
        except EventLogUnavailable as exc:
            log.warning("reading the event log over AMQP (slower): %s", exc)
        else:
            yield first
            async for batch in batches:
                yield batch
            return
    async for batch in AmqpReader(amqp_url, prefetch=prefetch).batches(batch_size):
        yield batch
