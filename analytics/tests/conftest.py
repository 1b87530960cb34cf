"""One real pipeline for the whole test session: fresh topics on the real broker, the schema in
embedded ClickHouse (chdb), the deterministic dataset produced into Kafka and consumed through
the Kafka engine tables."""

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sightline_analytics import dataset, kafka_io, pipeline, schema  # noqa: E402
from sightline_analytics.engine import Engine  # noqa: E402
from sightline_analytics.protos import Messages  # noqa: E402


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


@pytest.fixture(scope="session")
def loaded(messages, brokers, data):
    """(engine, timings): every record produced and consumed."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"t{run_id}.sightline."
    topic_names = [prefix + t for t in schema.topics()]
    timings = {}
    t0 = time.monotonic()
    kafka_io.run("create-topics", brokers, ",".join(topic_names))
    workdir = Path(tempfile.mkdtemp(prefix="sightline-chdb-"))
    frames = workdir / "records.bin"
    records = dataset.records(messages, data, prefix)
    kafka_io.write_frames(frames, records)
    engine = Engine(workdir / "db")
    pipeline.start(engine, brokers, group=f"clickhouse-test-{run_id}", prefix=prefix)
    timings["setup_s"] = time.monotonic() - t0
    t1 = time.monotonic()
    produced = int(kafka_io.run("produce", brokers, str(frames)).strip())
    assert produced == len(records)
    expected = {
        "records": len(data.interactions) + len(data.duplicates) + data.garbage,
        "rejected": len(data.rejected),
    }
    timings["consumed"] = pipeline.wait_for(engine, expected)
    timings["produce_and_consume_s"] = time.monotonic() - t1
    print(f"\nanalytics pipeline: {len(records)} records, timings {timings}")
    yield engine
    engine.close()
    kafka_io.run("delete-topics", brokers, ",".join(topic_names))
