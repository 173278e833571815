"""The lean MQTT 5 consumer: packet parsing, and against the real Mosquitto: many messages in flight,
acknowledgement only after storing, redelivery to a kept session."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from anbao.core.mqtt import Inbound, MQTTError, Parser, SharedConsumer, broker_address, pubacks
from tests.conftest import unavailable

BROKER = os.environ.get("ANBAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _publish_packet(topic: str, payload: bytes, mid: int, props: bytes = b"") -> bytes:
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + mid.to_bytes(2, "big") + bytes([len(props)]) + props + payload
    n, length = len(body), b""
    while True:
        byte, n = n % 128, n // 128
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return bytes([0x32]) + length + body


def test_parser_splits_packets_across_reads():
    big = b"x" * 300  # remaining length needs two bytes
    stream = (_publish_packet("a/b", b'{"v":1}', 7) + b"\xd0\x00"  # PINGRESP
              + _publish_packet("a/c", big, 8, props=b"\x01\x01") + _publish_packet("a/d", b"", 9))
    parser = Parser()
    got: list[Inbound] = []
    others = []
    for k in range(0, len(stream), 5):  # five bytes at a time
        messages, other = parser.feed(stream[k:k + 5], generation=3)
        got += messages
        others += other
    assert [(m.topic, m.payload, m.mid, m.qos, m.generation) for m in got] == [
        ("a/b", b'{"v":1}', 7, 1, 3), ("a/c", big, 8, 1, 3), ("a/d", b"", 9, 1, 3)]
    assert others == [(13, b"")] and not parser.buf
    assert pubacks([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"
    with pytest.raises(MQTTError):
        Parser().feed(b"\x30\xff\xff\xff\xff\x01")
    with pytest.raises(ValueError):
        broker_address("http://x")


@pytest.fixture
def publisher():
    host, port = broker_address(BROKER)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        unavailable(f"MQTT broker not reachable at {BROKER}: {exc}")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.max_inflight_messages_set(1000)
    pub.connect(host, port)
    pub.loop_start()
    yield pub
    pub.loop_stop()
    pub.disconnect()


def _wait(check, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not check():
        time.sleep(0.02)
    return bool(check())


def test_thousands_in_flight_none_lost(publisher):
    """Mosquitto keeps 20 messages in flight and queues 1,000 per client by default; a consumer that
    acknowledges after a slow store must announce a high Receive Maximum or lose messages."""
    got: list[bytes] = []

    def slow_store(batch: list[Inbound]) -> None:
        time.sleep(0.2)
        got.extend(m.payload for m in batch)

    topic = f"t{uuid.uuid4().hex[:8]}/x"
    consumer = SharedConsumer(BROKER, f"{topic}", slow_store, group="g", max_batch=20_000)
    consumer.start()
    try:
        infos = [publisher.publish(topic, str(i).encode(), qos=1) for i in range(5000)]
        for info in infos:
            info.wait_for_publish(10)
        assert _wait(lambda: len(got) >= 5000), len(got)
    finally:
        consumer.stop()
    assert sorted(int(p) for p in got) == list(range(5000)) and consumer.failed_batches == 0


def test_a_failed_batch_is_retried_until_stored(publisher):
    topic = f"t{uuid.uuid4().hex[:8]}/x"
    calls: list[int] = []
    stored: list[bytes] = []

    def flaky(batch: list[Inbound]) -> None:
        calls.append(len(batch))
        if len(calls) < 3:
            raise RuntimeError("database locked")
        stored.extend(m.payload for m in batch)

    consumer = SharedConsumer(BROKER, topic, flaky, group="g")
    consumer.start()
    try:
        for i in range(20):
            publisher.publish(topic, f"m{i}".encode(), qos=1).wait_for_publish(5)
        assert _wait(lambda: len(stored) >= 20, 30), (calls, len(stored))
    finally:
        consumer.stop()
    assert consumer.failed_batches == 2 and sorted(stored) == sorted(f"m{i}".encode() for i in range(20))


def test_unacknowledged_messages_come_back_to_a_kept_session(publisher):
    topic = f"t{uuid.uuid4().hex[:8]}/x"
    client_id = f"anbao-test-{uuid.uuid4().hex[:8]}"
    failing = threading.Event()
    failing.set()
    stored: list[bytes] = []

    def store(batch: list[Inbound]) -> None:
        if failing.is_set():
            raise RuntimeError("database down")
        stored.extend(m.payload for m in batch)

    first = SharedConsumer(BROKER, topic, store, group="g", client_id=client_id, session_expiry_s=60)
    first.start()
    for i in range(50):
        publisher.publish(topic, f"m{i}".encode(), qos=1).wait_for_publish(5)
    assert _wait(lambda: first.failed_batches > 0)
    first.stop()  # gone without acknowledging (stopped while retrying)
    failing.clear()
    again = SharedConsumer(BROKER, topic, store, group="g", client_id=client_id, session_expiry_s=1)
    again.start()  # same client id: the broker delivers the unacknowledged messages again
    try:
        assert _wait(lambda: len(set(stored)) >= 50), len(stored)
    finally:
        again.stop()
    assert set(stored) == {f"m{i}".encode() for i in range(50)}
