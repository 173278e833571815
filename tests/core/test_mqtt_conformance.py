"""Conformance of the hand-written MQTT 5 consumer (anbao.core.mqtt) against a Mosquitto of its own:
QoS 1 redelivery after a kill, session resume, keep-alive, reconnect with backoff, packet-id wrap,
Receive Maximum, broker restart; and the slot pool taking over a dead holder's slot."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from anbao.core.mqtt import FileLease, Inbound, SharedConsumer, SlotPool
from tests.mosquitto import Broker, wait_for


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory):
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.close()


def publish(broker: Broker, topic: str, payloads: list[str]) -> None:
    """QoS 1 through mosquitto_pub -l: returns once the broker acknowledged every line."""
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-q", "1", "-l"],
                   input=("\n".join(payloads) + "\n").encode(), check=True, timeout=60)


class Sink:
    """A handle() that records payloads; ``gate`` cleared holds every batch (never acknowledged)."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.held = 0  # batches that reached the handler while the gate was closed

    def __call__(self, batch: list[Inbound]) -> None:
        if not self.gate.is_set():
            self.held += 1
        self.gate.wait()
        with self.lock:
            self.payloads.extend(m.payload for m in batch)

    def distinct(self) -> set[bytes]:
        with self.lock:
            return set(self.payloads)


def names(n: int, tag: str = "m") -> list[str]:
    return [f"{tag}{i}" for i in range(n)]


def ids() -> tuple[str, str]:
    return f"t{uuid.uuid4().hex[:8]}/x", f"conf-{uuid.uuid4().hex[:8]}"


KILLED_CONSUMER = """
import sys, threading
from anbao.core.mqtt import SharedConsumer
url, topic, cid = sys.argv[1:4]
def hold(batch):  # received, never stored, never acknowledged
    print(len(batch), flush=True)
    threading.Event().wait()
SharedConsumer(url, topic, hold, group="g", client_id=cid, session_expiry_s=300).start()
print("ready", flush=True)
threading.Event().wait()
"""


def test_qos1_messages_come_again_after_the_consumer_is_killed(broker: Broker):
    topic, cid = ids()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CONSUMER, broker.url, topic, cid],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"  # subscribed
        publish(broker, topic, names(300))
        assert int(proc.stdout.readline()) > 0  # a batch reached the handler and is held there
    finally:
        proc.kill()  # kill -9: no PUBACK, no DISCONNECT
        proc.wait()
    sink = Sink()
    again = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300)
    again.start()
    try:
        assert wait_for(lambda: len(sink.distinct()) >= 300)
        assert again.session_present
    finally:
        again.stop()
    assert sink.distinct() == {p.encode() for p in names(300)}


def test_a_kept_session_resumes_with_what_came_while_away(broker: Broker):
    topic, cid = ids()
    sink = Sink()
    first = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300)
    first.start()
    publish(broker, topic, names(50, "a"))
    assert wait_for(lambda: len(sink.distinct()) >= 50)
    first.stop()  # DISCONNECT: the session stays for 300 s
    publish(broker, topic, names(400, "b"))  # queued for the session while nobody is connected
    again = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300)
    again.start()
    try:
        assert again.session_present
        assert wait_for(lambda: len(sink.distinct()) >= 450)
    finally:
        again.stop()
    assert len(sink.payloads) == 450  # every message once: the acknowledged ones did not come again


def test_keep_alive_pings_an_idle_broker_and_drops_a_silent_one(broker: Broker):
    topic, cid = ids()
    sink = Sink()
    consumer = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300,
                              keepalive_s=2, min_backoff_s=0.1, max_backoff_s=0.5)
    consumer.start()
    try:
        time.sleep(3.5)  # idle past 1.5 keep-alives: Mosquitto would have closed a client that did not ping
        assert consumer.reconnects == 0
        publish(broker, topic, ["idle"])
        assert wait_for(lambda: b"idle" in sink.distinct())
        broker.pause()  # SIGSTOP: the TCP connection stays open but the broker answers nothing
        try:
            lost = wait_for(lambda: consumer.attempts, timeout_s=6)
            assert lost, "a silent broker was not noticed within 1.5 keep-alives"
        finally:
            broker.resume()
        assert wait_for(lambda: consumer.reconnects >= 1, timeout_s=15)
        publish(broker, topic, ["after"])
        assert wait_for(lambda: b"after" in sink.distinct())
    finally:
        consumer.stop()


def test_reconnects_back_off_and_resume_after_a_broker_restart(broker: Broker):
    """Messages in flight (received, not yet stored) when the broker restarts are delivered again
    from its persisted session; the reconnect attempts while it is down come further and further apart."""
    topic, cid = ids()
    sink = Sink()
    consumer = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300,
                              min_backoff_s=0.1, max_backoff_s=2.0)
    consumer.start()
    try:
        sink.gate.clear()  # received batches wait: nothing is acknowledged
        publish(broker, topic, names(200))
        assert wait_for(lambda: sink.held)  # a batch is held in the handler, unacknowledged
        broker.stop()  # SIGTERM: the session with its 200 unacknowledged messages is written to disk
        assert wait_for(lambda: len(consumer.attempts) >= 4, timeout_s=10)
        times = list(consumer.attempts)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(later > 1.3 * earlier for earlier, later in zip(gaps, gaps[1:], strict=False)), gaps
        broker.start()
        sink.gate.set()
        assert wait_for(lambda: consumer.reconnects >= 1 and len(sink.distinct()) >= 200, timeout_s=15)
        publish(broker, topic, ["new"])
        assert wait_for(lambda: b"new" in sink.distinct())
    finally:
        consumer.stop()
    assert sink.distinct() == {p.encode() for p in [*names(200), "new"]}


def test_packet_ids_wrap_past_65535(broker: Broker):
    topic, cid = ids()
    sink = Sink()
    consumer = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300)
    consumer.start()
    try:
        for k in range(3):  # mosquitto_pub -l itself loses lines beyond about 65,000 in one run
            publish(broker, topic, names(25_000, f"{k}-"))
        assert wait_for(lambda: len(sink.payloads) >= 75_000, timeout_s=30)
    finally:
        consumer.stop()
    assert len(sink.payloads) == 75_000 and len(sink.distinct()) == 75_000


def test_receive_maximum_keeps_thousands_in_flight_with_mosquitto_defaults(tmp_path: Path):
    """Mosquitto's defaults: 20 in flight per client, 1,000 queued, QoS 1 beyond that dropped. The
    consumer announces Receive Maximum 65,535, so a store that holds its batch loses nothing."""
    broker = Broker(tmp_path, extra="max_inflight_messages 20\nmax_queued_messages 1000\n").start()
    topic, cid = ids()
    sink = Sink()
    consumer = SharedConsumer(broker.url, topic, sink, group="g", client_id=cid, session_expiry_s=300,
                              max_batch=20_000)
    try:
        consumer.start()
        sink.gate.clear()
        publish(broker, topic, names(5000))
        time.sleep(0.3)
        sink.gate.set()
        assert wait_for(lambda: len(sink.distinct()) >= 5000, timeout_s=20), len(sink.distinct())
    finally:
        consumer.stop()
        broker.close()


def test_a_slot_whose_holder_died_is_taken_over(broker: Broker, tmp_path: Path):
    """Two pools share two slots; one dies without a word: the other takes its slot and its session."""
    topic, prefix = ids()
    a_sink, b_sink = Sink(), Sink()
    a = SlotPool(broker.url, topic, a_sink, FileLease(tmp_path / "leases"), slots=2, prefix=prefix, group="g",
                 check_s=0.2)
    a.start()
    b = SlotPool(broker.url, topic, b_sink, FileLease(tmp_path / "leases"), slots=2, prefix=prefix, group="g",
                 check_s=0.2)
    b.start()
    try:
        assert wait_for(lambda: len(a.held()) == 1 and len(b.held()) == 1, timeout_s=10), (a.held(), b.held())
        for c in a.consumers.values():
            c.abort()  # as if the process died: no DISCONNECT, nothing acknowledged
        a._stop.set()
        a.lease.close()  # its locks go with it
        publish(broker, topic, names(1000))  # half of them routed to the dead holder's session
        assert wait_for(lambda: len(b.held()) == 2, timeout_s=10)
        assert wait_for(lambda: len(a_sink.distinct() | b_sink.distinct()) >= 1000, timeout_s=15)
    finally:
        b.stop()
    assert a_sink.distinct() | b_sink.distinct() == {p.encode() for p in names(1000)}
