"""MQTT transport (paho-mqtt, MQTT 5): a consumer that acknowledges a message only after it is stored.

The consumer joins a shared subscription (``$share/<group>/<filter>``), so N consumers on N machines
split the load. Messages are handed to ``handle`` in batches (up to ``max_batch`` messages or
``max_wait_s`` seconds); each message's QoS 1 PUBACK is sent only after ``handle`` returned, so a
crash before storing leaves the message with the broker, which delivers it again. Domain code
never imports this module's MQTT library; it supplies ``handle``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("anbao.mqtt")


@dataclass(frozen=True)
class Inbound:
    mid: int
    topic: str
    payload: bytes
    qos: int


def broker_address(url: str) -> tuple[str, int]:
    """Host and port of ``mqtt://host[:port]``; raises ValueError for anything else."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"MQTT URL must look like mqtt://host:1883, got {url!r}")
    return parsed.hostname, parsed.port or 1883


class SharedConsumer:
    def __init__(self, url: str, topic_filter: str, handle: Callable[[list[Inbound]], None], *,
                 group: str = "anbao-ingest", max_batch: int = 5000, max_wait_s: float = 0.05,
                 client_id: str | None = None) -> None:
        self.host, self.port = broker_address(url)
        self.subscription = f"$share/{group}/{topic_filter}"
        self.handle, self.max_batch, self.max_wait_s = handle, max_batch, max_wait_s
        self.inbox: queue.Queue[Inbound] = queue.Queue()
        self.stored = 0
        self.failed_batches = 0
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"anbao-{uuid.uuid4().hex[:12]}",
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self._writer = threading.Thread(target=self._drain, name="anbao-mqtt-writer", daemon=True)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        if all(not r.is_failure for r in reasons):
            self._subscribed.set()
        else:
            log.error("MQTT subscription %s refused: %s", self.subscription, reasons)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(mid=msg.mid, topic=msg.topic, payload=bytes(msg.payload), qos=msg.qos))

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start storing; raises TimeoutError when the broker does not answer."""
        props = Properties(mqtt.PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self.client.connect(self.host, self.port, keepalive=30, clean_start=True, properties=props)
        self.client.loop_start()
        self._writer.start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise TimeoutError(f"no subscription to {self.subscription} at {self.host}:{self.port}")

    def stop(self) -> None:
        self._stop.set()
        if self._writer.is_alive():
            self._writer.join(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def _next_batch(self) -> list[Inbound]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _drain(self) -> None:
        while not self._stop.is_set() or not self.inbox.empty():
            batch = self._next_batch()
            if not batch:
                if self._stop.is_set():
                    return
                continue
            try:
                self.handle(batch)
            except Exception:  # not acknowledged: the broker delivers these again after a reconnect
                self.failed_batches += 1
                log.exception("storing %d MQTT messages failed; left unacknowledged", len(batch))
                continue
            for m in batch:
                if m.qos > 0:
                    self.client.ack(m.mid, m.qos)
            self.stored += len(batch)
