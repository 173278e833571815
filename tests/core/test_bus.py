import asyncio

from anbao.core.bus import InProcessBus


def test_sequence_numbers_and_prefix_matching():
    bus = InProcessBus()
    got: list[str] = []
    bus.subscribe("event/1", lambda m: got.append(m.topic))
    a = bus.publish("event/1/warning", {"level": "red"})
    bus.publish("event/10/warning", {})  # a different event: "event/1" must not match "event/10"
    c = bus.publish("event/1", {})
    assert got == ["event/1/warning", "event/1"]
    assert (a.seq, c.seq) == (1, 3) and bus.last_seq == 3


def test_replay_after_a_gap_and_when_the_buffer_is_too_short():
    bus = InProcessBus(replay=5)
    for i in range(8):
        bus.publish(f"event/1/x/{i}", {"i": i})
    full = bus.since("event/1", 5)
    assert [m.payload["i"] for m in full.messages] == [5, 6, 7] and full.complete
    cut = bus.since("event/1", 1)
    assert [m.seq for m in cut.messages] == [4, 5, 6, 7, 8] and not cut.complete


def test_async_queue_subscriber_gets_messages_from_other_threads_and_drops_oldest_when_full():
    async def run() -> tuple[list[int], int]:
        bus = InProcessBus(queue_size=3)
        sub = bus.subscribe_queue("event/2")
        await asyncio.to_thread(lambda: [bus.publish("event/2/s", {"n": n}) for n in range(5)])
        await asyncio.sleep(0.05)
        seen = []
        while not sub.queue.empty():
            seen.append(sub.queue.get_nowait().payload["n"])
        sub.close()
        bus.publish("event/2/s", {"n": 99})
        await asyncio.sleep(0.01)
        assert sub.queue.empty()
        return seen, sub.dropped

    seen, dropped = asyncio.run(run())
    assert seen == [2, 3, 4] and dropped == 2
