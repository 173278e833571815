"""MQTT transport: a lean MQTT 5 shared-subscription consumer that acknowledges a message only after
it is stored.

The consumer joins a shared subscription (``$share/<group>/<filter>``), so N consumers on N machines
split the load. Messages are handed to ``handle`` in batches (up to ``max_batch`` messages or
``max_bytes`` of payload, waiting at most ``max_wait_s`` for more); each message's QoS 1 PUBACK is
sent only after ``handle`` returned. A batch whose ``handle`` raised is kept and tried again (the
broker would not send it again on the same connection). Domain code never imports this module; it
supplies ``handle``.

Why not a general client library: a subscriber that stores before it acknowledges needs many
messages in flight at once, and spends its time per message. This one speaks only the part of
MQTT 5 a QoS 1 subscriber needs (CONNECT, SUBSCRIBE, PUBLISH in, PUBACK, PINGREQ, DISCONNECT),
reads the socket in large blocks, parses every PUBLISH in a block in one pass, and sends a whole
batch of PUBACKs in one write. It announces a Receive Maximum of 65,535 in CONNECT: without it
Mosquitto keeps only ``max_inflight_messages`` (20 by default) unacknowledged messages in flight
to a client, and queues at most ``max_queued_messages`` (1,000) more per client, dropping QoS 1
messages beyond that, so a consumer that acknowledges after a 50 ms batch would lose messages
under load. paho-mqtt stays the library for publishing.

With ``session_expiry_s`` > 0 and a fixed ``client_id``, the broker keeps the session while the
consumer is away and delivers unacknowledged messages again when it reconnects.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlparse

log = logging.getLogger("anbao.mqtt")

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 8, 9
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14
RECEIVE_MAXIMUM = 65535
_PINGREQ = b"\xc0\x00"
_DISCONNECT = b"\xe0\x00"


class Inbound(NamedTuple):
    mid: int
    topic: str
    payload: bytes
    qos: int
    generation: int = 0  # the connection it came on; only that connection may acknowledge it


class MQTTError(ConnectionError):
    """The broker refused the connection or the subscription, or broke the protocol."""


def broker_address(url: str) -> tuple[str, int]:
    """Host and port of ``mqtt://host[:port]``; raises ValueError for anything else."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"MQTT URL must look like mqtt://host:1883, got {url!r}")
    return parsed.hostname, parsed.port or 1883


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _text(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _varint(len(body)) + body


def connect_packet(client_id: str, *, keepalive_s: int, session_expiry_s: int, clean_start: bool) -> bytes:
    props = b"\x11" + struct.pack("!I", session_expiry_s) + b"\x21" + struct.pack("!H", RECEIVE_MAXIMUM)
    variable = _text("MQTT") + bytes([5, 0x02 if clean_start else 0]) + struct.pack("!H", keepalive_s)
    return _packet(CONNECT, 0, variable + _varint(len(props)) + props + _text(client_id))


def subscribe_packet(mid: int, topic_filter: str, qos: int = 1) -> bytes:
    return _packet(SUBSCRIBE, 2, struct.pack("!H", mid) + b"\x00" + _text(topic_filter) + bytes([qos]))


def pubacks(mids: list[int]) -> bytes:
    """PUBACK packets (success, no reason code) for ``mids``, concatenated."""
    return b"".join(b"\x40\x02" + m.to_bytes(2, "big") for m in mids)


class Parser:
    """Splits a byte stream into MQTT packets; PUBLISH packets become :class:`Inbound` items."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes, generation: int = 0) -> tuple[list[Inbound], list[tuple[int, bytes]]]:
        """Append ``data``; return the complete PUBLISH messages and the other packets (type, body)."""
        buf = self.buf
        buf += data
        n = len(buf)
        pos = 0
        messages: list[Inbound] = []
        others: list[tuple[int, bytes]] = []
        append = messages.append
        while n - pos >= 2:
            b0 = buf[pos]
            i, length, shift, complete = pos + 1, 0, 0, False
            while i < n:  # remaining length: a variable byte integer of at most four bytes
                byte = buf[i]
                i += 1
                length |= (byte & 0x7F) << shift
                if byte < 0x80:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    raise MQTTError("malformed remaining length")
            end = i + length
            if not complete or end > n:
                break
            if b0 >> 4 == PUBLISH:
                qos = (b0 >> 1) & 3
                tlen = buf[i] << 8 | buf[i + 1]
                j = i + 2 + tlen
                topic = buf[i + 2:j].decode("utf-8", errors="replace")
                mid = 0
                if qos:
                    mid = buf[j] << 8 | buf[j + 1]
                    j += 2
                plen, shift = 0, 0  # properties length (a variable byte integer), then skip them
                while True:
                    byte = buf[j]
                    plen |= (byte & 0x7F) << shift
                    j += 1
                    if byte < 0x80:
                        break
                    shift += 7
                append(Inbound(mid, topic, bytes(buf[j + plen:end]), qos, generation))
            else:
                others.append((b0 >> 4, bytes(buf[i:end])))
            pos = end
        if pos:
            del buf[:pos]
        return messages, others


class SharedConsumer:
    """Consume ``$share/<group>/<topic_filter>`` at QoS 1 and store before acknowledging."""

    def __init__(self, url: str, topic_filter: str, handle: Callable[[list[Inbound]], None], *,
                 group: str = "anbao-ingest", max_batch: int = 5000, max_wait_s: float = 0.05,
                 max_bytes: int = 2 * 1024 * 1024, client_id: str | None = None, keepalive_s: int = 30,
                 session_expiry_s: int = 0) -> None:
        self.host, self.port = broker_address(url)
        self.subscription = f"$share/{group}/{topic_filter}"
        self.handle, self.max_batch, self.max_wait_s, self.max_bytes = handle, max_batch, max_wait_s, max_bytes
        self.client_id = client_id or f"anbao-{uuid.uuid4().hex[:12]}"
        self.keepalive_s, self.session_expiry_s = keepalive_s, session_expiry_s
        self.stored = 0
        self.failed_batches = 0
        self.reconnects = 0
        self._inbox: deque[list[Inbound]] = deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._generation = 0
        self._last_send = time.monotonic()
        self._parser = Parser()
        self._reader = threading.Thread(target=self._read_loop, name="anbao-mqtt-reader", daemon=True)
        self._writer = threading.Thread(target=self._drain, name="anbao-mqtt-writer", daemon=True)

    # -- connection ---------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start storing; raises TimeoutError or OSError when the broker does not
        answer, MQTTError when it refuses."""
        self._connect(timeout_s)
        self._reader.start()
        self._writer.start()

    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise ConnectionError("not connected")
        with self._send_lock:
            sock.sendall(data)
            self._last_send = time.monotonic()

    def _connect(self, timeout_s: float) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            parser = Parser()
            sock.sendall(connect_packet(self.client_id, keepalive_s=self.keepalive_s,
                                        session_expiry_s=self.session_expiry_s,
                                        clean_start=self.session_expiry_s == 0))
            deadline = time.monotonic() + timeout_s
            pending: list[Inbound] = []
            acked = subscribed = False
            generation = self._generation + 1
            while not subscribed:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no subscription to {self.subscription} at {self.host}:{self.port}")
                data = sock.recv(65536)
                if not data:
                    raise MQTTError("broker closed the connection")
                messages, others = parser.feed(data, generation)
                pending.extend(messages)  # a resumed session may deliver before the SUBACK
                for kind, body in others:
                    if kind == CONNACK:
                        if len(body) < 2 or body[1] >= 0x80:
                            raise MQTTError(f"MQTT connect refused, reason code 0x{body[1]:02x}")
                        acked = True
                        sock.sendall(subscribe_packet(1, self.subscription))
                    elif kind == SUBACK and acked:
                        codes = body[3 + body[2]:] if len(body) > 2 else b""
                        if not codes or codes[0] >= 0x80:
                            raise MQTTError(f"MQTT subscription {self.subscription} refused: "
                                            f"reason code 0x{codes[0] if codes else 0:02x}")
                        subscribed = True
                    elif kind == DISCONNECT:
                        raise MQTTError(f"broker disconnected: {body.hex()}")
        except BaseException:
            sock.close()
            raise
        sock.settimeout(1.0)
        self._parser = parser
        self._generation = generation
        self._sock = sock
        self._last_send = time.monotonic()
        if pending:
            self._put(pending)
        self._subscribed.set()

    def _read_loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            sock = self._sock
            try:
                if sock is None:
                    raise ConnectionError("not connected")
                try:
                    data = sock.recv(1 << 20)
                except TimeoutError:
                    data = None
                if data == b"":
                    raise ConnectionError("broker closed the connection")
                if data:
                    messages, others = self._parser.feed(data, self._generation)
                    if messages:
                        self._put(messages)
                    for kind, body in others:
                        if kind == DISCONNECT:
                            raise ConnectionError(f"broker disconnected: {body.hex()}")
                if time.monotonic() - self._last_send > self.keepalive_s / 2:
                    self._send(_PINGREQ)
                backoff = 0.5
            except (OSError, MQTTError) as exc:
                if self._stop.is_set():
                    return
                log.warning("MQTT connection lost (%s); reconnecting", exc)
                self._close_socket()
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                try:
                    self._connect(10.0)
                    self.reconnects += 1
                except (OSError, MQTTError) as again:
                    log.warning("MQTT reconnect failed: %s", again)

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._writer.is_alive():
            self._writer.join(timeout=5)
        try:
            self._send(_DISCONNECT)
        except OSError:
            pass
        self._close_socket()
        if self._reader.is_alive():
            self._reader.join(timeout=3)

    # -- batches ------------------------------------------------------------------------------

    def _put(self, messages: list[Inbound]) -> None:
        with self._wake:
            self._inbox.append(messages)
            self._wake.notify()

    def _next_batch(self) -> list[Inbound]:
        """Up to ``max_batch`` messages and about ``max_bytes`` of payload, waiting at most ``max_wait_s``
        after the first one for more."""
        batch: list[Inbound] = []
        size = 0
        with self._wake:
            if not self._inbox:
                self._wake.wait(0.2)
            if not self._inbox:
                return batch
            deadline = time.monotonic() + self.max_wait_s
            while True:
                while self._inbox and len(batch) < self.max_batch and size < self.max_bytes:
                    chunk = self._inbox.popleft()
                    take = 0
                    for m in chunk:
                        if len(batch) + take >= self.max_batch or (take and size >= self.max_bytes):
                            break
                        size += len(m.payload)
                        take += 1
                    if take < len(chunk):
                        self._inbox.appendleft(chunk[take:])
                    batch.extend(chunk[:take])
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set() or len(batch) >= self.max_batch or size >= self.max_bytes:
                    break
                self._wake.wait(left)
        return batch

    def _drain(self) -> None:
        while not self._stop.is_set() or self._inbox:
            batch = self._next_batch()
            if batch and self._store(batch):
                self._acknowledge(batch)

    def _store(self, batch: list[Inbound]) -> bool:
        """Hand ``batch`` to ``handle`` until it is stored; False when stopped first. The broker does not
        send an unacknowledged message again on the same connection, so a failed batch is retried here."""
        backoff = 0.5
        while True:
            try:
                self.handle(batch)
                return True
            except Exception:  # the database is failing: keep the batch, unacknowledged, and try again
                self.failed_batches += 1
                log.exception("storing %d MQTT messages failed; retrying in %.1f s", len(batch), backoff)
            if self._stop.wait(backoff):
                return False  # left unacknowledged: a kept session gets them again on reconnect
            backoff = min(backoff * 2, 10.0)

    def _acknowledge(self, batch: list[Inbound]) -> None:
        generation = self._generation
        mids = [m.mid for m in batch if m.qos and m.generation == generation]
        if mids:
            try:
                self._send(pubacks(mids))
            except OSError as exc:  # stored; a kept session delivers them again and keys dedupe them
                log.warning("PUBACK of %d stored messages failed: %s", len(mids), exc)
        self.stored += len(batch)
