"""Delivers a dataset's planned batches through a running collector, the way browsers would:
each user's batches in order, users in parallel, a resent batch POSTed again with the same bytes
right after its first answer (the response was "lost"). Every answer is recorded."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import sdk_batches
from .dataset import Dataset, PlannedBatch

SENDERS = 4


@dataclass
class Delivery:
    planned: PlannedBatch
    stamped: sdk_batches.Stamped
    attempt: int  # 1, or 2 for the resend
    stamped_at_ms: int  # real clock when sent_at was stamped (before the request)
    answered_at_ms: int  # real clock after the answer
    status: int
    answer: dict | None

    @property
    def expected(self) -> dict:
        return {"accepted": len(self.planned.interactions), "rejected": len(self.planned.defects)}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _send_user(collector, messages, batches: list) -> list:
    out = []
    for planned in batches:
        stamped_at = now_ms()
        stamped = sdk_batches.stamp(messages, planned, stamped_at)
        for attempt in range(1, 3 if planned.resend else 2):
            status, answer = collector.post_batch(stamped.body)
            out.append(Delivery(planned, stamped, attempt, stamped_at, now_ms(), status, answer))
    return out


def deliver(collector, messages, data: Dataset) -> list:
    """Every Delivery, in no particular order across users."""
    by_user: dict = {}
    for b in data.batches:
        by_user.setdefault(b.user.key, []).append(b)
    with ThreadPoolExecutor(SENDERS) as pool:
        results = pool.map(lambda batches: _send_user(collector, messages, batches), by_user.values())
        return [d for user in results for d in user]


def unexpected(deliveries: list) -> list:
    """Deliveries whose answer is not 200 with the planned accepted/rejected counts."""
    return [(d.planned.user.key, d.planned.url, d.attempt, d.status, d.answer, d.expected)
            for d in deliveries if d.status != 200 or d.answer != d.expected]
