"""A real sightline-collector process for tests and demos: a config file written for the run,
the binary started on a free loopback port, batches POSTed to it, a clean SIGTERM shutdown.

The binary comes from $SIGHTLINE_COLLECTOR_BIN (scripts/test-analytics.sh builds it with
`cargo build -p sightline-collector` and exports the path), else target/debug/.
"""

import http.client
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from .paths import REPO

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


class CollectorError(RuntimeError):
    """The collector could not be started, answered unexpectedly or did not stop cleanly."""


@dataclass
class CollectorSettings:
    brokers: str
    topic_prefix: str
    sites: list = field(default_factory=lambda: ["demo"])
    hot_user_burst: int = 2000
    hot_user_per_s: int = 1
    max_events_per_batch: int = 1000
    # The defects of dataset.DEFECT_REASONS are sized against these.
    max_string_len: int = 1024
    max_properties: int = 64
    max_event_age_s: int = 7 * 86_400
    max_event_future_s: int = 300
    collector_id: str = "analytics-test"

    def toml(self) -> str:
        sites = "".join(f'\n[[sites]]\nkey = "{s}"\nallowed_origins = ["http://localhost:*"]\n' for s in self.sites)
        return f"""# Written by sightline_analytics/collector.py for one run.
[server]
listen = "127.0.0.1:0"
collector_id = "{self.collector_id}"

[limits]
max_events_per_batch = {self.max_events_per_batch}
max_string_len = {self.max_string_len}
max_properties = {self.max_properties}
max_event_age_s = {self.max_event_age_s}
max_event_future_s = {self.max_event_future_s}

[rate_limits]
# One client IP (the test) sends every batch: no per-IP or per-site limit. The hot-user guard
# stays on with a burst chosen by the caller, so exactly one user's batch overflows.
per_ip_per_s = 0
per_site_events_per_s = 0
hot_user_events_per_s = {self.hot_user_per_s}
hot_user_events_burst = {self.hot_user_burst}
hot_user_action = "overflow"

[ivt]
# One client address (the test) plays every user: the many-ids-per-address rule would flag
# them all. The other invalid-traffic rules stay on.
ip_max_anonymous_ids = 0

[kafka]
brokers = "{self.brokers}"
linger_ms = 2
ack_timeout_ms = 30000

[routing]
prefix = "{self.topic_prefix}"

[shutdown]
readiness_grace_ms = 0
drain_timeout_ms = 10000
flush_timeout_ms = 10000

[log]
format = "json"
level = "info"
{sites}"""


def binary() -> Path:
    path = Path(os.environ.get("SIGHTLINE_COLLECTOR_BIN") or REPO / "target" / "debug" / "sightline-collector")
    if not path.is_file():
        raise CollectorError(f"{path} does not exist: run `cargo build -p sightline-collector` "
                             "(scripts/test-analytics.sh does) or set SIGHTLINE_COLLECTOR_BIN")
    return path


class Collector:
    """One collector process; use as a context manager."""

    def __init__(self, settings: CollectorSettings, workdir: Path) -> None:
        self.settings = settings
        self.config_path = workdir / "collector.toml"
        self.log_path = workdir / "collector.log"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.config_path.write_text(self.settings.toml())
        log = self.log_path.open("wb")
        # tracing writes to stdout; both streams go to the log, read for the bound address. The
        # run's directory is the working directory, so whatever the collector keeps on disk under
        # a relative default path (its spool) stays there, not in the repository.
        self.process = subprocess.Popen([str(binary()), "--config", str(self.config_path)],
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        cwd=self.config_path.parent)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while self.port is None:
            if self.process.poll() is not None:
                raise CollectorError(f"collector exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise CollectorError(f"collector did not start listening in {READY_TIMEOUT_S} s:\n{self.log()}")
            self.port = self._bound_port()
            time.sleep(0.05)
        while True:
            status, _ = self.request("GET", "/readyz")
            if status == 200:
                return
            if time.monotonic() > deadline:
                self.kill()
                raise CollectorError(f"collector not ready (Kafka reachable) in {READY_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.1)

    def _bound_port(self) -> int | None:
        for line in self.log().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            fields = entry.get("fields", {})
            if fields.get("message") == "collector listening":
                return int(str(fields["addr"]).rsplit(":", 1)[1])
        return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, parsed JSON body or None). One connection per call: simple and thread-safe."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            conn.close()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, None

    def post_batch(self, body: bytes) -> tuple[int, dict | None]:
        return self.request("POST", "/v1/batch", body, {
            "Content-Type": "application/x-protobuf", "User-Agent": "sightline-analytics-test/1.0"})

    def stop(self) -> int:
        """SIGTERM and wait: the collector flushes its producer and exits 0."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise CollectorError(f"collector did not stop within {STOP_TIMEOUT_S} s:\n{self.log()[-2000:]}") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
