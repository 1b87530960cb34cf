"""Producing test records and managing test topics on a real Kafka broker.

Runs as its own process (python -m sightline_analytics.kafka_io): chdb links its own librdkafka,
and keeping confluent-kafka's copy out of that process avoids two librdkafka builds side by side.
Records travel over a file of length-prefixed frames: topic, key, value.
"""

import struct
import subprocess
import sys
import time
from pathlib import Path


class KafkaIoError(RuntimeError):
    """Producing or topic administration failed."""


def write_frames(path: Path, records) -> None:
    with path.open("wb") as out:
        for topic, key, value in records:
            for part in (topic.encode(), key, value):
                out.write(struct.pack(">I", len(part)))
                out.write(part)


def read_frames(path: Path):
    data = path.read_bytes()
    pos, parts = 0, []
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        parts.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
        if len(parts) == 3:
            yield parts[0].decode(), parts[1], parts[2]
            parts = []


def run(command: str, brokers: str, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sightline_analytics.kafka_io", command, brokers, *args],
        capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).resolve().parent.parent, check=False,
    )
    if done.returncode != 0:
        raise KafkaIoError(f"kafka_io {command} failed: {done.stderr.strip()}")
    return done.stdout


def _main(argv: list[str]) -> int:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    command, brokers = argv[0], argv[1]
    if command == "produce":
        producer = Producer({"bootstrap.servers": brokers, "acks": "all", "enable.idempotence": True,
                             "partitioner": "murmur2_random", "linger.ms": 5})
        failures = []
        count = 0
        for topic, key, value in read_frames(Path(argv[2])):
            producer.produce(topic, key=key, value=value,
                             on_delivery=lambda err, _msg: failures.append(str(err)) if err else None)
            producer.poll(0)
            count += 1
        left = producer.flush(60)
        if failures or left:
            print(f"{len(failures)} failed, {left} undelivered: {failures[:3]}", file=sys.stderr)
            return 1
        print(count)
        return 0
    if command == "read-all":
        return _read_all(brokers, argv[2])
    admin = AdminClient({"bootstrap.servers": brokers})
    names = argv[2].split(",")
    if command == "create-topics":
        futures = admin.create_topics([NewTopic(n, num_partitions=6, replication_factor=1) for n in names])
    elif command == "delete-topics":
        futures = admin.delete_topics(names)
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    for future in futures.values():
        future.result(timeout=60)
    return 0


def _read_all(brokers: str, topic: str) -> int:
    """Every record of `topic` from the beginning to its end offsets at the start, one JSON
    line each: {"key": ..., "value": ...} (keys and values UTF-8; the erasures topic)."""
    import json

    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"sightline-read-{time.time_ns()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    metadata = consumer.list_topics(topic, timeout=30)
    if topic not in metadata.topics or metadata.topics[topic].error is not None:
        print(f"topic {topic} not found", file=sys.stderr)
        return 1
    wanted = {}
    for partition in metadata.topics[topic].partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
        if high > low:
            wanted[partition] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in wanted])
    deadline = time.monotonic() + 60
    while wanted and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        key = (message.key() or b"").decode("utf-8", "replace")
        print(json.dumps({"key": key, "value": (message.value() or b"").decode("utf-8", "replace")}))
        if message.offset() + 1 >= wanted.get(message.partition(), 0):
            wanted.pop(message.partition(), None)
    consumer.close()
    if wanted:
        print(f"timed out reading {topic}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
