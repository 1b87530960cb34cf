"""One real pipeline for the whole test session: fresh topics on the real broker, the schema in
embedded ClickHouse (chdb) consuming them through its Kafka engine tables, a real
sightline-collector writing to them, and the deterministic dataset POSTed to that collector as
protobuf Batches. Only the two undecodable records go straight to Kafka: the collector never
writes one, and they are what kafka_errors is tested with."""

import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sightline_analytics import dataset, delivery, kafka_io, kinds, pipeline, schema
from sightline_analytics.collector import Collector, CollectorSettings
from sightline_analytics.engine import Engine
from sightline_analytics.protos import Messages


@pytest.fixture(scope="session")
def messages():
    return Messages()


@pytest.fixture(scope="session")
def brokers():
    value = os.environ.get("SIGHTLINE_KAFKA")
    if not value:
        pytest.fail("SIGHTLINE_KAFKA is not set: start a broker (scripts/kafka.sh up) and export it")
    return value


@pytest.fixture(scope="session")
def data():
    return dataset.generate()


@dataclass
class Run:
    engine: Engine
    deliveries: list
    collector_exit: int
    collector_settings: CollectorSettings
    sent_from_ms: int
    sent_until_ms: int
    timings: dict


def garbage_records(prefix: str, count: int) -> list:
    topic = prefix + kinds.TOPIC_SUFFIX["click"]
    return [(topic, b"garbage", b"\xff\xffnot a protobuf message" + bytes([n])) for n in range(count)]


@pytest.fixture(scope="session")
def run(messages, brokers, data):
    """Every batch delivered through the collector and every record consumed by ClickHouse."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"t{run_id}.sightline."
    topic_names = [prefix + t for t in schema.topics()]
    timings = {}
    t0 = time.monotonic()
    kafka_io.run("create-topics", brokers, ",".join(topic_names))
    workdir = Path(tempfile.mkdtemp(prefix="sightline-analytics-"))
    engine = Engine(workdir / "db")
    try:
        pipeline.start(engine, brokers, group=f"clickhouse-test-{run_id}", prefix=prefix)
        settings = CollectorSettings(brokers=brokers, topic_prefix=prefix, sites=["demo", "other"],
                                     hot_user_burst=data.hot_user_burst())
        timings["setup_s"] = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        collector = Collector(settings, workdir)
        with collector:
            sent_from = delivery.now_ms()
            deliveries = delivery.deliver(collector, messages, data)
            sent_until = delivery.now_ms()
        timings["deliver_s"] = round(time.monotonic() - t1, 2)
        bad = delivery.unexpected(deliveries)
        if bad:
            pytest.fail(f"{len(bad)} of {len(deliveries)} POSTs were not answered as planned, e.g. {bad[:3]}\n"
                        f"collector log tail:\n{collector.log()[-3000:]}")
        frames = workdir / "garbage.bin"
        kafka_io.write_frames(frames, garbage_records(prefix, data.garbage))
        assert int(kafka_io.run("produce", brokers, str(frames)).strip()) == data.garbage
        t2 = time.monotonic()
        expected = {
            "records": len(data.interactions) + len(data.duplicates) + data.garbage,
            "rejected": len(data.defects),
        }
        consumed = pipeline.wait_for(engine, expected)
        timings["consume_s"] = round(time.monotonic() - t2, 2)
        print(f"\nanalytics pipeline: {len(deliveries)} POSTs ({len(data.batches)} batches, "
              f"{len(data.interactions)} events, {len(data.duplicates)} resent, {len(data.defects)} defects) "
              f"through the collector, consumed {consumed}, timings {timings}")
        yield Run(engine, deliveries, collector.process.returncode, settings, sent_from, sent_until, timings)
    finally:
        engine.close()
        kafka_io.run("delete-topics", brokers, ",".join(topic_names))
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def loaded(run):
    return run.engine


def pytest_collection_modifyitems(items):
    """Erasure deletes rows from the one shared pipeline: its tests run after every other."""
    items.sort(key=lambda item: item.fspath.basename == "test_erasure.py")
