"""A Mosquitto of a test's own: free port, temporary config and data folder, so that killing and
restarting it never touches the broker the rest of the suite uses (127.0.0.1:1883)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import unavailable

#: the shipped example's queue and persistence settings (deploy/mosquitto/mosquitto.conf), test-sized
SHIPPED = "max_queued_messages 1000000\nmax_inflight_messages 0\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """``mosquitto -c <tmp>/mosquitto.conf`` with persistence in ``<tmp>/data``; ``extra`` config lines."""

    def __init__(self, folder: Path, extra: str = SHIPPED) -> None:
        if shutil.which("mosquitto") is None:
            unavailable("mosquitto is not installed")
        self.folder, self.port = folder, free_port()
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {folder / 'data'}/\nlog_dest file {folder / 'mosquitto.log'}\n"
                             f"log_type error\nlog_type warning\nlog_type notice\n{extra}"
                             # run as root, Mosquitto switches to the user mosquitto, which cannot write here
                             + ("user root\n" if os.geteuid() == 0 else ""))
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not start on {self.port}: {(self.folder / 'mosquitto.log').read_text()}")

    def stop(self) -> None:
        """SIGTERM: Mosquitto writes its persistence file (sessions, queued and in-flight messages)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def wait_for(check, timeout_s: float = 15.0, step_s: float = 0.02):  # type: ignore[no-untyped-def]
    """``check()``'s first true value within ``timeout_s``, else its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(step_s)
    return check()
