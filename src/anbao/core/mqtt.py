"""MQTT transport: a lean MQTT 5 shared-subscription consumer that acknowledges a message only after
it is stored, and the pool of fixed consumer slots that keeps every broker session consumed.

The consumer joins a shared subscription (``$share/<group>/<filter>``), so N consumers on N machines
split the load. Messages are handed to ``handle`` in batches (up to ``max_batch`` messages or
``max_bytes`` of payload, waiting at most ``max_wait_s`` for more); each message's QoS 1 PUBACK is
sent only after ``handle`` returned. A batch whose ``handle`` raised is kept and tried again (the
broker would not send it again on the same connection). The transport knows nothing of readings:
the caller supplies ``handle``.

Why not a general client library (measured by ``bench/mqtt_clients.py``, see docs/mqtt.md): a
subscriber that stores before it acknowledges needs many messages in flight at once, and spends its
time per message. This one speaks only the part of MQTT 5 a QoS 1 subscriber needs (CONNECT,
SUBSCRIBE, PUBLISH in, PUBACK, PINGREQ, DISCONNECT), reads the socket in large blocks, parses every
PUBLISH in a block in one pass, and sends a whole batch of PUBACKs in one write: 3 to 15 times the
receive rate of paho-mqtt, gmqtt or aiomqtt. It announces a Receive Maximum of 65,535 in CONNECT:
without it Mosquitto keeps only ``max_inflight_messages`` (20 by default) unacknowledged messages in
flight to a client, and queues at most ``max_queued_messages`` (1,000) more per client, dropping
QoS 1 messages beyond that. paho-mqtt stays the library for publishing. Its conformance against
Mosquitto is tests/core/test_mqtt_conformance.py.

Keep-alive: a PINGREQ when nothing was sent or nothing received for half the keep-alive; a broker
silent for 1.5 keep-alives is taken for dead and the connection is dropped. Reconnects back off
from ``min_backoff_s`` (0.5 s), doubling up to ``max_backoff_s``, with ±20 % jitter so that many consumers do not
return in step.

With ``session_expiry_s`` > 0 and a fixed ``client_id``, the broker keeps the session while the
consumer is away and delivers unacknowledged messages again when it reconnects. :class:`SlotPool`
gives every consumer process a share of ``slots`` such fixed client ids, each held under a lease
(:class:`FileLease` on one machine, :class:`PgLease`, a PostgreSQL advisory lock, across machines):
when a process dies its lease goes with it and a live process takes its slots over within about a
second, so no session of the shared group stays unconsumed while any consumer runs.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import random
import socket
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol
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
    """Consume ``$share/<group>/<topic_filter>`` (``group=None``: ``topic_filter`` alone) at QoS 1 and
    store before acknowledging.

    ``may_connect`` (when given) is asked before every reconnect: a slot consumer whose lease is
    gone must not take the session back from the process that holds it now.
    """

    def __init__(self, url: str, topic_filter: str, handle: Callable[[list[Inbound]], None], *,
                 group: str | None = "anbao-ingest", max_batch: int = 5000, max_wait_s: float = 0.05,
                 max_bytes: int = 2 * 1024 * 1024, client_id: str | None = None, keepalive_s: int = 30,
                 session_expiry_s: int = 0, min_backoff_s: float = 0.5, max_backoff_s: float = 10.0,
                 may_connect: Callable[[], bool] | None = None) -> None:
        self.host, self.port = broker_address(url)
        self.subscription = f"$share/{group}/{topic_filter}" if group else topic_filter  # None: not shared
        self.handle, self.max_batch, self.max_wait_s, self.max_bytes = handle, max_batch, max_wait_s, max_bytes
        self.client_id = client_id or f"anbao-{uuid.uuid4().hex[:12]}"
        self.keepalive_s, self.session_expiry_s = keepalive_s, session_expiry_s
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self.may_connect = may_connect
        self.stored = 0
        self.failed_batches = 0
        self.reconnects = 0
        #: monotonic times of the reconnect attempts (the newest 50), to see the backoff
        self.attempts: deque[float] = deque(maxlen=50)
        #: whether the broker still had the session at the last CONNACK
        self.session_present = False
        self._inbox: deque[list[Inbound]] = deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._generation = 0
        self._last_send = self._last_recv = self._last_ping = time.monotonic()
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
            acked = subscribed = present = False
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
                        acked, present = True, bool(body[0] & 1)
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
        sock.settimeout(min(1.0, self.keepalive_s / 4))
        if present:  # the kept session sends every unacknowledged message again: drop the old copies
            with self._wake:
                kept = [[m for m in chunk if m.generation == generation] for chunk in self._inbox]
                self._inbox.clear()
                self._inbox.extend(c for c in kept if c)
        self.session_present = present
        self._parser = parser
        self._generation = generation
        self._sock = sock
        self._last_send = self._last_recv = self._last_ping = time.monotonic()
        if pending:
            self._put(pending)
        self._subscribed.set()

    def _keep_alive(self) -> None:
        """PINGREQ when idle; ConnectionError when the broker has been silent for 1.5 keep-alives."""
        now = time.monotonic()
        half = self.keepalive_s / 2
        if now - self._last_recv > 1.5 * self.keepalive_s:
            raise ConnectionError(f"no packet from the broker for {now - self._last_recv:.1f} s (keep-alive)")
        if now - self._last_send > half or (now - self._last_recv > half and now - self._last_ping > half):
            self._last_ping = now
            self._send(_PINGREQ)

    def _read_loop(self) -> None:
        backoff = self.min_backoff_s
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
                    self._last_recv = time.monotonic()
                    messages, others = self._parser.feed(data, self._generation)
                    if messages:
                        self._put(messages)
                    for kind, body in others:
                        if kind == DISCONNECT:
                            raise ConnectionError(f"broker disconnected: {body.hex()}")
                self._keep_alive()
                backoff = self.min_backoff_s
            except (OSError, MQTTError) as exc:
                if self._stop.is_set():
                    return
                if sock is not None:
                    log.warning("MQTT connection of %s lost (%s); reconnecting", self.client_id, exc)
                self._close_socket()
                if self._stop.wait(backoff * random.uniform(0.8, 1.2)):  # nosec B311: jitter, not a secret
                    return
                backoff = min(backoff * 2, self.max_backoff_s)
                if self.may_connect is not None and not self.may_connect():
                    continue
                self.attempts.append(time.monotonic())
                try:
                    self._connect(10.0)
                    self.reconnects += 1
                except (OSError, MQTTError) as again:
                    log.warning("MQTT reconnect of %s failed: %s", self.client_id, again)

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        """Store and acknowledge what was received, then disconnect (a session with an expiry is kept)."""
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

    def abort(self) -> None:
        """Drop the connection without DISCONNECT and stop, as if the process had died (for tests)."""
        self._stop.set()
        self._close_socket()
        with self._wake:
            self._inbox.clear()
            self._wake.notify_all()

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


# -- slots and leases ---------------------------------------------------------------------------


class Lease(Protocol):
    """Who holds which consumer slot, across the processes of one installation.

    A lease is released by the operating system or the database when its holder dies, never by a
    timer: a live holder cannot lose a slot while it still consumes it.
    """

    def join(self) -> None: ...  # become a member (counted by members()); may raise OSError
    def members(self) -> int: ...  # live members, this process included
    def try_take(self, slot: int) -> bool: ...
    def give_back(self, slot: int) -> None: ...
    def alive(self) -> bool: ...  # False: the leases are lost (the database connection broke)
    def close(self) -> None: ...


class FileLease:
    """Slot leases as ``flock`` locks on files in ``folder``: one machine (the SQLite deployment).

    The kernel releases a dead process's locks at once. Each member also locks a file of its own, so
    that the members can be counted: a member file that can be locked by another is stale.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._slots: dict[int, int] = {}
        self._member: tuple[int, Path] | None = None

    def _lock(self, path: Path) -> int | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def join(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"member-{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"
        fd = self._lock(path)
        if fd is None:
            raise OSError(f"cannot lock {path}")
        self._member = (fd, path)

    def members(self) -> int:
        count = 0
        for path in self.folder.glob("member-*.lock"):
            if self._member is not None and path == self._member[1]:
                count += 1
                continue
            try:
                fd = self._lock(path)
            except FileNotFoundError:
                continue
            if fd is None:
                count += 1
            else:  # its holder is gone
                path.unlink(missing_ok=True)
                os.close(fd)
        return max(count, 1)

    def try_take(self, slot: int) -> bool:
        fd = self._lock(self.folder / f"slot-{slot}.lock")
        if fd is None:
            return False
        self._slots[slot] = fd
        return True

    def give_back(self, slot: int) -> None:
        fd = self._slots.pop(slot, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases its lock

    def alive(self) -> bool:
        return self._member is not None

    def close(self) -> None:
        for slot in list(self._slots):
            self.give_back(slot)
        if self._member is not None:
            fd, path = self._member
            path.unlink(missing_ok=True)
            os.close(fd)
            self._member = None


class PgLease:
    """Slot leases as PostgreSQL session advisory locks, on a connection of their own (several machines).

    PostgreSQL releases the locks when the holder's connection ends: at once when its process dies,
    within about 11 s (TCP keep-alive 5 s + 3 x 2 s, set on the session) when its machine or network
    dies. Lock keys: (crc32 of ``name`` for slots, slot number) and (that + 1 for members, a random id).
    """

    def __init__(self, engine: Any, name: str) -> None:
        self.engine = engine
        self.key = zlib.crc32(name.encode()) & 0x3FFFFFFF
        self._conn: Any = None
        self._member = random.randrange(1, 2**31)  # nosec B311: an id, not a secret

    def _one(self, sql: str, *params: int) -> Any:
        cur = self._conn.cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchone()[0]
        finally:
            cur.close()

    def join(self) -> None:
        conn = self.engine.raw_connection()
        try:
            conn.driver_connection.autocommit = True
            self._conn = conn
            cur = conn.cursor()
            cur.execute("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3")
            cur.close()
            self._one("SELECT pg_advisory_lock(%s, %s)::text", self.key + 1, self._member)
        except Exception as exc:
            self._conn = None
            conn.invalidate()
            raise OSError(f"PostgreSQL lease connection: {exc}") from exc

    def members(self) -> int:
        return int(self._one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                             "AND objsubid = 2 AND classid = %s::oid "
                             "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                             self.key + 1)) or 1

    def try_take(self, slot: int) -> bool:
        return bool(self._one("SELECT pg_try_advisory_lock(%s, %s)", self.key, slot))

    def give_back(self, slot: int) -> None:
        self._one("SELECT pg_advisory_unlock(%s, %s)", self.key, slot)

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._one("SELECT 1")
            return True
        except Exception:
            return False

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # closing the connection releases every lock it held
            except Exception:
                log.debug("lease connection already broken")


class SlotPool:
    """Consume through ``slots`` fixed client ids ``<prefix>-<k>``, each under a lease, all in one group.

    One slot (the default) subscribes to ``topic_filter`` itself: one process consumes, the others
    stand by and take over within ``check_s`` of its death. Mosquitto restores that subscription from
    its persistence file after a restart and queues for it until the consumer is back; it does not
    restore shared subscriptions (2.0), so with several slots the messages published between a broker
    restart and the consumers' return are dropped (docs/mqtt.md).

    With several slots every slot is a persistent session in the shared group; Mosquitto keeps routing a
    share of the traffic to each, connected or not. So every slot must be consumed whenever any consumer runs:
    each process holds about ``ceil(slots / members)`` of them, takes over any slot whose holder died
    (its lease is free) within ``check_s``, and hands slots back, after acknowledging what it stored,
    when more members join. While no consumer runs, the broker queues each slot's share in its session
    (``session_expiry_s``, the broker's ``max_queued_messages``; docs/mqtt.md).
    """

    def __init__(self, url: str, topic_filter: str, handle: Callable[[list[Inbound]], None], lease: Lease, *,
                 slots: int = 4, prefix: str = "anbao-ingest", group: str = "anbao-ingest",
                 session_expiry_s: int = 7 * 24 * 3600, check_s: float = 1.0, **options: Any) -> None:
        broker_address(url)
        self.url, self.topic_filter, self.handle, self.lease = url, topic_filter, handle, lease
        self.slots, self.prefix, self.group = slots, prefix, group
        self.session_expiry_s, self.check_s, self.options = session_expiry_s, check_s, options
        self.consumers: dict[int, SharedConsumer] = {}
        self._stored_before = 0
        self._joined = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="anbao-mqtt-slots", daemon=True)

    @property
    def stored(self) -> int:
        return self._stored_before + sum(c.stored for c in list(self.consumers.values()))

    def held(self) -> list[int]:
        return sorted(self.consumers)

    def start(self, timeout_s: float = 10.0) -> None:
        """Join and take a first share of the slots; raises OSError/MQTTError when the broker cannot be
        reached, so that a misconfigured process says so at once."""
        self.lease.join()
        self._joined = True
        try:
            self._balance(first=True, timeout_s=timeout_s)
        except BaseException:
            self._release_all()
            self.lease.close()
            raise
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._release_all()
        self.lease.close()

    def _release_all(self) -> None:
        for slot in list(self.consumers):
            self._give_back(slot)

    def _give_back(self, slot: int) -> None:
        with self._lock:
            consumer = self.consumers.pop(slot)
        consumer.stop()
        self._stored_before += consumer.stored
        try:
            self.lease.give_back(slot)
        except Exception:  # the lease connection is gone: the lock went with it
            log.debug("lease of slot %d already gone", slot)

    def _may_connect(self, slot: int) -> Callable[[], bool]:
        return lambda: slot in self.consumers and not self._stop.is_set()

    def _take(self, slot: int, timeout_s: float) -> None:
        consumer = SharedConsumer(self.url, self.topic_filter, self.handle,
                                  group=self.group if self.slots > 1 else None,
                                  client_id=f"{self.prefix}-{slot}", session_expiry_s=self.session_expiry_s,
                                  may_connect=self._may_connect(slot), **self.options)
        with self._lock:
            self.consumers[slot] = consumer
        try:
            consumer.start(timeout_s)
        except BaseException:
            with self._lock:
                self.consumers.pop(slot, None)
            self.lease.give_back(slot)
            raise
        log.info("MQTT slot %d taken (%s)", slot, consumer.client_id)

    def _balance(self, *, first: bool = False, timeout_s: float = 10.0) -> None:
        target = math.ceil(self.slots / self.lease.members())
        held = len(self.consumers)
        if held < target:
            start = random.randrange(self.slots)  # nosec B311: spreads processes over slots
            for k in range(self.slots):
                slot = (start + k) % self.slots
                if held >= target:
                    break
                if slot in self.consumers or not self.lease.try_take(slot):
                    continue
                try:
                    self._take(slot, timeout_s)
                except (OSError, MQTTError):
                    if first:
                        raise
                    log.warning("MQTT slot %d: broker not reachable; trying again", slot, exc_info=True)
                    return
                held += 1
        elif held > target:
            self._give_back(max(self.consumers))

    def _run(self) -> None:
        while not self._stop.wait(self.check_s * random.uniform(0.8, 1.2)):  # nosec B311
            try:
                if not self.lease.alive():
                    log.warning("MQTT slot leases lost (database connection): stopping the slot consumers")
                    self._release_all()
                    self.lease.close()
                    self.lease.join()
                self._balance()
            except Exception:
                log.exception("MQTT slot pool check failed; trying again")
