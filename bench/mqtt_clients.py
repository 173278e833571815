"""Receive throughput of QoS 1 messages for the MQTT clients in question, one run. Prints one JSON line.

    python bench/mqtt_clients.py [--n 50000] [--repeat 3] [--size 110]

A Mosquitto of its own (temporary config, free port, no persistence, no queue limit) holds ``--n``
QoS 1 messages queued for each client's persistent session (published by mosquitto_pub -l while the
client is away). The clock runs from the client's CONNECT until it has received and acknowledged all
of them: the broker then sends as fast as the client takes them (MQTT 5, Receive Maximum 65,535 for
every client). Clients, each acknowledging every message:

- ``hand_written``: ``anbao.core.mqtt.SharedConsumer`` (a socket reader parsing whole blocks, PUBACKs
  per batch after a no-op handler)
- ``paho``: paho-mqtt 2.x, threaded loop, acknowledging as it receives (auto ack)
- ``paho_manual_ack``: paho-mqtt with ``manual_ack``: the PUBACKs sent from another thread per batch,
  as a store-then-acknowledge consumer built on paho would
- ``gmqtt``, ``aiomqtt``: the asyncio clients (installed only for this measurement; skipped if absent)

Keys: ``<client>_msgs_per_s`` (best of ``--repeat``), ``broker_ceiling_msgs_per_s`` (mosquitto_sub -C n),
``n``, ``payload_bytes``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from anbao.core.mqtt import SharedConsumer

EXPIRY = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 0\nmax_inflight_messages 0\nlog_dest none\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def connect_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = EXPIRY
    props.ReceiveMaximum = 65535
    return props


def prepare(port: int, client_id: str, subscription: str, topic: str, lines: bytes) -> None:
    """A persistent session for ``client_id`` subscribed to ``subscription``, then ``lines`` queued for it."""
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.connect("127.0.0.1", port, clean_start=True, properties=connect_props())
    c.loop_start()
    c.subscribe(subscription, qos=1)
    if not done.wait(10):
        raise RuntimeError("no SUBACK")
    c.disconnect()
    c.loop_stop()
    pub_lines(port, topic, lines)


def pub_lines(port: int, topic: str, lines: bytes) -> None:
    """mosquitto_pub -l, 25,000 lines per run: one run loses lines beyond about 65,000 (its packet ids)."""
    rows = lines.splitlines(keepends=True)
    for k in range(0, len(rows), 25_000):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-l"],
                       input=b"".join(rows[k:k + 25_000]), check=True, timeout=600)


def wait_until(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("messages did not arrive")
        time.sleep(0.001)


def run_hand_written(port: int, cid: str, flt: str, n: int) -> float:
    got = [0]
    c = SharedConsumer(f"mqtt://127.0.0.1:{port}", flt, lambda b: got.__setitem__(0, got[0] + len(b)),
                       group="g", client_id=cid, session_expiry_s=EXPIRY)
    t = time.perf_counter()
    c.start()
    wait_until(lambda: got[0] >= n, 120)
    elapsed = time.perf_counter() - t
    c.stop()
    return elapsed


def run_paho(port: int, cid: str, flt: str, n: int, manual: bool = False) -> float:
    got = [0]
    mids: list[int] = []
    lock = threading.Lock()
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv5, manual_ack=manual)

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        if manual:
            with lock:
                mids.append(msg.mid)
        else:
            got[0] += 1

    c.on_message = on_message
    stop = threading.Event()

    def acker() -> None:  # acknowledges per batch, as a store-then-acknowledge consumer does
        while not stop.is_set():
            with lock:
                batch = mids[:]
                mids.clear()
            for mid in batch:
                c.ack(mid, 1)
            got[0] += len(batch)
            if not batch:
                time.sleep(0.005)

    t = time.perf_counter()
    c.connect("127.0.0.1", port, clean_start=False, properties=connect_props())
    c.loop_start()
    ack_thread = threading.Thread(target=acker, daemon=True)
    if manual:
        ack_thread.start()
    wait_until(lambda: got[0] >= n, 120)
    elapsed = time.perf_counter() - t
    stop.set()
    c.disconnect()
    c.loop_stop()
    return elapsed


def run_gmqtt(port: int, cid: str, flt: str, n: int) -> float:
    from gmqtt import Client
    from gmqtt.mqtt.constants import MQTTv50

    async def main() -> float:
        got = [0]
        done = asyncio.Event()
        c = Client(cid, clean_session=False, session_expiry_interval=EXPIRY, receive_maximum=65535)

        def on_message(client: Any, topic: str, payload: bytes, qos: int, properties: Any) -> int:
            got[0] += 1
            if got[0] >= n:
                done.set()
            return 0

        c.on_message = on_message
        t = time.perf_counter()
        await c.connect("127.0.0.1", port, version=MQTTv50)
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - t
        await c.disconnect()
        return elapsed

    return asyncio.run(main())


def run_aiomqtt(port: int, cid: str, flt: str, n: int) -> float:
    import aiomqtt

    async def main() -> float:
        got = 0
        t = time.perf_counter()
        async with aiomqtt.Client("127.0.0.1", port, identifier=cid, protocol=aiomqtt.ProtocolVersion.V5,
                                  clean_start=False, properties=connect_props()) as c:
            async for _ in c.messages:
                got += 1
                if got >= n:
                    break
            elapsed = time.perf_counter() - t
        return elapsed

    return asyncio.run(main())


def broker_ceiling(port: int, n: int, lines: bytes) -> float:
    topic = "bench/ceiling"
    with tempfile.TemporaryFile() as out:
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1",
                                "-C", str(n), "-V", "5", "-D", "connect", "receive-maximum", "65535",
                                "-i", "bench-ceiling", "-c", "-x", str(EXPIRY)], stdout=out)
        time.sleep(0.3)  # subscribed (its own session: the messages are queued for it if it is late)
        t = time.perf_counter()
        pub_lines(port, topic, lines)
        sub.wait(120)
        return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=110, help="payload bytes (a one-reading message is ~110)")
    args = parser.parse_args()
    if not shutil.which("mosquitto") or not shutil.which("mosquitto_pub"):
        sys.exit("bench: mosquitto and mosquitto_pub are needed")
    body = json.dumps({"sensor": "S1", "at": "2025-01-01T00:00:00.000000+00:00", "value": 1.0})
    body = (body + " " * max(0, args.size - len(body)))[:max(args.size, len(body))]
    lines = ("\n".join([body] * args.n) + "\n").encode()
    runners: dict[str, Callable[[int, str, str, int], float]] = {
        "hand_written": run_hand_written, "paho": run_paho,
        "paho_manual_ack": lambda p, c, f, n: run_paho(p, c, f, n, manual=True),
        "gmqtt": run_gmqtt, "aiomqtt": run_aiomqtt,
    }
    result: dict[str, Any] = {"n": args.n, "payload_bytes": len(body), "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        try:
            result["broker_ceiling_msgs_per_s"] = round(broker_ceiling(port, args.n, lines))
            for r in range(args.repeat):
                for name, run in runners.items():
                    cid = f"bench-{name}-{r}"
                    flt = f"bench/{name}{r}/#"
                    try:
                        prepare(port, cid, f"$share/g/{flt}", f"bench/{name}{r}/x", lines)
                        rate = args.n / run(port, cid, flt, args.n)
                    except ImportError:
                        continue
                    key = f"{name}_msgs_per_s"
                    result[key] = max(result.get(key, 0), round(rate))
        finally:
            broker.terminate()
            broker.wait(10)
    result["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
