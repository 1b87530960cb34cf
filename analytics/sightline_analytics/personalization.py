"""Issue 22's A/B proof on ClickHouse: the simulated students' events (tests/src/sim, POSTed
through a real collector into Kafka) are consumed by the schema's Kafka tables exactly as in
production, and the experiment is read with the dashboard's own A/B query
(queries/ab_ctr_significance.sql, proportionsZTest). Held against the simulation's ground truth:

* CTR(personalized) > CTR(control) with p < ALPHA;
* each arm's impressions and clicked impressions are exactly what the simulator sent, and its
  CTR equals what the click model predicts for the creatives actually served (Σ p over the
  impressions) within TOLERANCE_SIGMAS standard deviations of that sum;
* no minor (restricted) and no GPC user (cookieless) ever got a `behavioural` decision: in the
  impressions' decision policy and in the decision log (topic `ad_decisions`, table
  `sightline.ad_decisions` of the production schema), where every decision served to them must
  be found, unkeyed;
* freshness (event sent → the service's profile reflects it): p50/p99 printed, p99 bounded.

Runs as its own process (chdb allows one embedded server per process):
    python -m sightline_analytics.personalization --brokers H:P --truth truth.json --out result.json
Exit status 0 when every check holds, 1 otherwise; each check is printed either way.
"""

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import pipeline, queries
from .engine import Engine

EXPERIMENT = "ad_policy"
# Significance the personalized arm's lift must reach.
ALPHA = 0.01
# Observed clicked impressions may differ from Σ p by this many standard deviations
# (sqrt(Σ p(1-p))): a correct pipeline fails this about once in 16 000 runs.
TOLERANCE_SIGMAS = 4.0
# "Reflected in that user's segments within a few seconds" (issue 22).
FRESHNESS_P99_LIMIT_MS = 5000.0
# Consumption must finish within this once the simulation is done.
CONSUME_TIMEOUT_S = 180
PROTECTED_MODES = ("restricted", "cookieless")


class Checks:
    """Collects named pass/fail results so every one is printed, not only the first failure."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.results.append((name, bool(ok), detail))
        print(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}", flush=True)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(ok for _, ok, _ in self.results)


def wait_for_events(engine, site_key: str, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    got = 0
    while time.monotonic() < deadline:
        got = int(engine.scalar("SELECT uniqExact(event_id) FROM sightline.events WHERE site_key = {s:String}",
                                {"s": site_key}))
        if got >= expected:
            return got
        time.sleep(0.5)
    raise pipeline.NotConsumed(f"after {timeout_s} s ClickHouse has {got} of {expected} events")


def ab_rows(engine, site_key: str) -> dict:
    today = datetime.now(UTC).date()
    window = queries.Window(site_key, today - timedelta(days=1), today + timedelta(days=1))
    return {r["variant"]: r for r in queries.run(engine, "ab_ctr_significance", window) if r["experiment"] == EXPERIMENT}


def policy_rows(engine, site_key: str) -> list[dict]:
    """Impressions and clicked impressions per privacy mode, arm and decision policy."""
    return engine.rows(
        """
        SELECT privacy_mode, decision_variant AS variant, decision_policy AS policy,
               uniqExactIf(impression_id, kind = 'ad_impression') AS impressions,
               uniqExactIf(impression_id, kind = 'ad_click') AS clicked_impressions
        FROM sightline.events FINAL
        WHERE site_key = {s:String} AND kind IN ('ad_impression', 'ad_click')
        GROUP BY privacy_mode, variant, policy
        ORDER BY privacy_mode, variant, policy
        """,
        {"s": site_key},
    )


def wait_for_decisions(engine, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    got = 0
    while time.monotonic() < deadline:
        got = int(engine.scalar("SELECT uniqExact(decision_id) FROM sightline.ad_decisions"))
        if got >= expected:
            return got
        time.sleep(0.5)
    return got


def analyse(engine, truth: dict, decisions_topic: str) -> tuple[Checks, dict]:
    site = truth["site_key"]
    checks = Checks()
    expected_events = int(truth["traffic"]["events"]) + int(truth["freshness"]["events_sent"])
    t0 = time.monotonic()
    got = wait_for_events(engine, site, expected_events, CONSUME_TIMEOUT_S)
    consume_s = round(time.monotonic() - t0, 1)
    checks.check("every event reached ClickHouse", got == expected_events,
                 f"{got} distinct events in sightline.events, {expected_events} sent (students and freshness "
                 f"probes; {consume_s} s to consume)")

    ab = ab_rows(engine, site)
    result = {"ab": ab, "truth_arms": truth["arms"], "freshness": truth["freshness"], "traffic": truth["traffic"]}
    control, personalized = ab.get("control"), ab.get("personalized")
    checks.check("both arms in the A/B view", control is not None and personalized is not None,
                 f"variants of {EXPERIMENT}: {sorted(ab)}")
    if control is None or personalized is None:
        return checks, result

    for variant, row in (("control", control), ("personalized", personalized)):
        arm = truth["arms"].get(variant, {})
        checks.check(f"{variant}: impressions as sent", int(row["impressions"]) == int(arm.get("impressions", -1)),
                     f"ClickHouse {row['impressions']}, simulator {arm.get('impressions')}")
        checks.check(f"{variant}: clicked impressions as sent",
                     int(row["clicked_impressions"]) == int(arm.get("simulated_clicks", -1)),
                     f"ClickHouse {row['clicked_impressions']}, simulator {arm.get('simulated_clicks')}")
        expected, sigma = float(arm.get("expected_clicks", 0)), math.sqrt(float(arm.get("variance", 0)))
        observed = int(row["clicked_impressions"])
        impressions = max(int(row["impressions"]), 1)
        checks.check(
            f"{variant}: CTR matches the model's prediction",
            sigma > 0 and abs(observed - expected) <= TOLERANCE_SIGMAS * sigma,
            f"observed {observed} clicked / {impressions} = {100 * observed / impressions:.3f} %, predicted "
            f"Σp = {expected:.1f} ({100 * expected / impressions:.3f} %), |Δ| = {abs(observed - expected):.1f} "
            f"<= {TOLERANCE_SIGMAS:g} sd = {TOLERANCE_SIGMAS * sigma:.1f}")

    ctr_c, ctr_p = float(control["ctr"]), float(personalized["ctr"])
    p_value = personalized["p_value"]
    checks.check("personalized CTR above control", ctr_p > ctr_c,
                 f"personalized {100 * ctr_p:.3f} % vs control {100 * ctr_c:.3f} % "
                 f"(lift x{ctr_p / ctr_c if ctr_c else float('inf'):.2f})")
    checks.check(f"lift significant (p < {ALPHA})", p_value is not None and float(p_value) < ALPHA,
                 f"proportionsZTest z = {personalized['z']}, p = {p_value}, 95 % CI of the difference "
                 f"[{personalized['ci_low']}, {personalized['ci_high']}]")

    by_policy = policy_rows(engine, site)
    result["by_policy"] = by_policy
    protected = [r for r in by_policy if r["privacy_mode"] in PROTECTED_MODES]
    protected_impressions = sum(int(r["impressions"]) for r in protected)
    expected_protected = int(truth["arms"].get("", {}).get("impressions", 0))
    behavioural = sum(int(r["impressions"]) for r in protected if r["policy"] == "behavioural")
    checks.check("minors' and GPC users' impressions in ClickHouse", protected_impressions == expected_protected > 0,
                 f"{protected_impressions} impressions in restricted/cookieless mode, simulator sent {expected_protected}")
    checks.check("no behavioural ad for minors or GPC users (impressions)", behavioural == 0,
                 f"{behavioural} behavioural; policies {[(r['privacy_mode'], r['policy'], r['impressions']) for r in protected]}")

    expected_decisions = int(truth["traffic"]["decisions"]) + int(truth["freshness"]["decide_calls"])
    logged = wait_for_decisions(engine, expected_decisions, CONSUME_TIMEOUT_S)
    checks.check("every decision is in the decision log", logged == expected_decisions,
                 f"{logged} distinct decisions in {decisions_topic}, {expected_decisions} answered to the simulator")
    engine.execute("CREATE DATABASE IF NOT EXISTS proof")
    engine.execute("CREATE TABLE proof.protected (decision_id String, class String) ENGINE = Memory")
    wanted = truth["protected_decisions"]
    engine.execute("INSERT INTO proof.protected FORMAT JSONEachRow\n"
                   + "\n".join(json.dumps({"decision_id": d, "class": c}) for d, c in wanted.items()))
    found = engine.rows("""
        SELECT p.class AS class, l.policy AS policy, l.privacy_mode AS mode, count() AS decisions,
               countIf(l.user_key != '') AS keyed, max(l.profile_events) AS max_profile_events
        FROM proof.protected AS p INNER JOIN sightline.ad_decisions AS l FINAL USING decision_id
        GROUP BY class, policy, mode ORDER BY class, policy, mode""")
    result["protected_decisions"] = found
    n_found = sum(int(r["decisions"]) for r in found)
    checks.check("every minor/GPC decision is in the decision log", len(wanted) > 0 and n_found == len(wanted),
                 f"{n_found} of {len(wanted)} found")
    not_contextual = [r for r in found if r["policy"] != "contextual"]
    checks.check("minors and GPC users got contextual decisions only, unprofiled (decision log)",
                 not not_contextual and all(int(r["keyed"]) == 0 and int(r["max_profile_events"]) == 0 for r in found),
                 f"by class, policy and stated mode: {found}")
    # Beyond the simulator's own ids: any decision whose request stated a minor, GPC or a mode
    # other than persistent, in the whole log.
    stated = engine.rows("""
        SELECT policy, count() AS decisions FROM sightline.ad_decisions FINAL
        WHERE consent_minor OR consent_gpc OR privacy_mode != 'persistent'
        GROUP BY policy ORDER BY policy""")
    result["decision_log_protected_by_policy"] = stated
    checks.check("no behavioural decision in the log for any minor, GPC or non-persistent request",
                 stated and all(r["policy"] != "behavioural" for r in stated), f"policies {stated}")
    result["decision_log_by_policy"] = engine.rows(
        "SELECT variant, policy, count() AS decisions FROM sightline.ad_decisions FINAL "
        "GROUP BY variant, policy ORDER BY variant, policy")

    fresh = truth["freshness"]
    checks.check("freshness: every probe reflected", fresh["probes"] > 0 and fresh["reflected"] == fresh["probes"],
                 f"{fresh['reflected']} of {fresh['probes']} probes reflected ({fresh['timed_out']} timed out)")
    checks.check(f"freshness p99 <= {FRESHNESS_P99_LIMIT_MS:g} ms", 0 < fresh["p99_ms"] <= FRESHNESS_P99_LIMIT_MS,
                 f"event sent → profile_events up: p50 {fresh['p50_ms']:.1f} ms, p99 {fresh['p99_ms']:.1f} ms, "
                 f"max {fresh['max_ms']:.1f} ms")
    return checks, result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--prefix", default="sightline.", help="the collector's topic prefix")
    parser.add_argument("--truth", type=Path, required=True, help="the simulator's ground truth JSON")
    parser.add_argument("--out", type=Path, help="where the measured numbers go (JSON)")
    parser.add_argument("--workdir", type=Path, help="chdb database directory (default: a temporary one)")
    args = parser.parse_args(argv)
    truth = json.loads(args.truth.read_text())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sightline-personalization-"))
    engine = Engine(workdir / "db")
    try:
        # A new consumer group reads the topics from the beginning (the Kafka engine's default).
        pipeline.start(engine, args.brokers, group=f"clickhouse-personalization-{time.time_ns()}",
                       prefix=args.prefix)
        print("personalization A/B on ClickHouse:", flush=True)
        checks, result = analyse(engine, truth, args.prefix + "ad_decisions")
    finally:
        engine.close()
    result["checks"] = [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks.results]
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str))
    failed = [n for n, ok, _ in checks.results if not ok]
    print(f"personalization: {len(checks.results) - len(failed)} of {len(checks.results)} checks passed"
          + (f"; failed: {failed}" if failed else ""))
    return 0 if checks.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
