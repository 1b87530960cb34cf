"""Sends the deterministic dataset (dataset.py: two sites, two past days) through a real
sightline-collector into Kafka, so a report has something to show on an empty broker.

    python -m sightline_analytics.seed --brokers 127.0.0.1:9092 [--prefix sightline.]

The topics must exist (scripts/kafka.sh up creates them). Exit 1 when a batch is not answered
as planned.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from . import dataset, delivery
from .collector import Collector, CollectorSettings
from .protos import Messages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--prefix", default="sightline.")
    args = parser.parse_args(argv)
    data = dataset.generate()
    settings = CollectorSettings(brokers=args.brokers, topic_prefix=args.prefix, sites=["demo", "other"],
                                 hot_user_burst=data.hot_user_burst(), collector_id="analytics-seed")
    workdir = Path(tempfile.mkdtemp(prefix="sightline-seed-"))
    try:
        with Collector(settings, workdir) as collector:
            deliveries = delivery.deliver(collector, Messages(), data)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bad = delivery.unexpected(deliveries)
    accepted = sum(d.answer["accepted"] for d in deliveries if d.answer)
    rejected = sum(d.answer["rejected"] for d in deliveries if d.answer)
    print(f"seed: {len(deliveries)} batches through the collector to {args.brokers} ({args.prefix}*): "
          f"{accepted} events accepted, {rejected} rejected")
    if bad:
        print(f"seed: {len(bad)} batches not answered as planned, e.g. {bad[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
