"""The live campaign dashboard: a page (analytics/dashboard/) whose panels are the dashboard
queries of analytics/queries/, run by ClickHouse on every refresh.

ClickHouse is the embedded engine by default — consuming the Kafka topics through the production
schema (--brokers), or opening an existing database directory (--db) — or a ClickHouse server
through its HTTP interface (--clickhouse-url http://host:8123, the schema already loaded there).

    python -m sightline_analytics.dashboard --brokers 127.0.0.1:9092 --port 3100
    python -m sightline_analytics.dashboard --clickhouse-url http://clickhouse:8123 --port 3100

API (JSON): GET /api/panels?site=&from=&to=&college=&cohort=&campaign= → every query's rows (a query whose
tables this ClickHouse does not have — e.g. an IVT or video report not deployed yet — is listed
under "absent" and its panel stays hidden); GET /api/options?site= → the filter choices.
"""

import argparse
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import queries
from .paths import ANALYTICS, CACHE

PAGE_DIR = ANALYTICS / "dashboard"
STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8")}
MISSING_TABLE_CODES = ("UNKNOWN_TABLE", "UNKNOWN_DATABASE", "Code: 60.", "Code: 81.")
DEFAULT_DAYS = 30


class QueryFailed(RuntimeError):
    """ClickHouse answered a query with an error."""


class ChdbBackend:
    """The embedded engine. chdb sessions are not thread-safe: one query at a time."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()

    def rows(self, sql: str, params: dict) -> list[dict]:
        with self.lock:
            try:
                return self.engine.rows(sql, params)
            except Exception as err:
                raise QueryFailed(str(err)) from err


class HttpBackend:
    """A ClickHouse server's HTTP interface: the query in the body, parameters as param_*."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.url = url.rstrip("/") + "/"
        self.headers = {}
        if user:
            self.headers["X-ClickHouse-User"] = user
        if password:
            self.headers["X-ClickHouse-Key"] = password

    def rows(self, sql: str, params: dict) -> list[dict]:
        query = {"default_format": "JSONEachRow", "output_format_json_quote_64bit_integers": "0",
                 **{f"param_{k}": v for k, v in params.items()}}
        request = urllib.request.Request(self.url + "?" + urllib.parse.urlencode(query), data=sql.encode(),
                                         headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as err:
            raise QueryFailed(err.read().decode(errors="replace")) from err
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def window_from(query: dict) -> queries.Window:
    """The filters of a request; the default range is the last DEFAULT_DAYS days through tomorrow
    (dead letters are filed under the day they were received)."""
    def one(name, default=""):
        return query.get(name, [default])[0]

    today = datetime.now(UTC).date()
    date_from = date.fromisoformat(one("from") or (today - timedelta(days=DEFAULT_DAYS)).isoformat())
    date_to = date.fromisoformat(one("to") or (today + timedelta(days=1)).isoformat())
    return queries.Window(one("site", "demo") or "demo", date_from, date_to, college=one("college"), cohort=one("cohort"),
                          campaign=one("campaign"))


def panels(backend, window: queries.Window) -> dict:
    """Every dashboard query for the window, as the query files answer it."""
    out, absent, timings = {}, [], {}
    for name in queries.names():
        t0 = time.monotonic()
        try:
            out[name] = backend.rows((queries.QUERIES_DIR / f"{name}.sql").read_text(), window.params())
        except QueryFailed as err:
            if not any(code in str(err) for code in MISSING_TABLE_CODES):
                raise
            absent.append(name)
        timings[name] = round((time.monotonic() - t0) * 1000, 1)
    return {"served": "live", "window": window.params(),
            "panels": out, "absent": absent, "questions": {n: queries.question(n) for n in out},
            "query_ms": timings, "generated": datetime.now(UTC).isoformat(timespec="seconds")}


def options(backend, site: str) -> dict:
    """Filter choices: the sites with ad data, and the colleges, cohorts and campaigns of `site`."""
    rows = backend.rows("SELECT DISTINCT site_key, college, cohort, campaign_id FROM sightline.ad_ctr_daily "
                        "ORDER BY site_key, college, cohort, campaign_id", {})
    mine = [r for r in rows if r["site_key"] == site]
    return {"sites": sorted({r["site_key"] for r in rows}) or ["demo"], "colleges": sorted({r["college"] for r in mine}),
            "cohorts": sorted({r["cohort"] for r in mine}), "campaigns": sorted({r["campaign_id"] for r in mine})}


class Warmer:
    """Recomputes the default view (no filters) every `every_s` in the background, so a page
    load reads a result at most that old instead of waiting for every query: the load time
    stays flat with the data volume and ClickHouse runs the default view's queries once per
    interval whatever the number of viewers. Filtered views are queried on demand."""

    def __init__(self, backend, every_s: float) -> None:
        self.backend, self.every_s = backend, every_s
        self.latest: tuple[float, dict] | None = None
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self) -> None:
        while True:
            try:
                t0 = time.monotonic()
                result = {**panels(self.backend, window_from({})), "served": "background refresh"}
                if self.latest is None:
                    print(f"dashboard: default view warmed in {(time.monotonic() - t0) * 1000:.0f} ms", flush=True)
                self.latest = (time.monotonic(), result)
            except QueryFailed as err:
                print(f"dashboard: background refresh failed: {err}", file=sys.stderr, flush=True)
            time.sleep(self.every_s)

    def get(self, window: queries.Window) -> dict | None:
        if self.latest is None:
            return None
        at, result = self.latest
        fresh = time.monotonic() - at <= 2 * self.every_s
        return result if fresh and result["window"] == window.params() else None


def handler_for(backend, warmer: Warmer | None = None):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: one line per request is noise at a 5 s refresh
            pass

        def send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def json(self, status: int, value) -> None:
            self.send(status, json.dumps(value, default=str).encode(), "application/json")

        def do_GET(self):  # the name http.server calls
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            try:
                if url.path in STATIC:
                    name, content_type = STATIC[url.path]
                    self.send(200, (PAGE_DIR / name).read_bytes(), content_type)
                elif url.path == "/api/panels":
                    window = window_from(query)
                    self.json(200, (warmer.get(window) if warmer else None) or panels(backend, window))
                elif url.path == "/api/options":
                    self.json(200, options(backend, query.get("site", ["demo"])[0]))
                elif url.path == "/healthz":
                    self.send(200, b"ok\n", "text/plain")
                else:
                    self.send(404, b"not found\n", "text/plain")
            except ValueError as err:  # a malformed date in the filters
                self.json(400, {"error": str(err)})
            except QueryFailed as err:
                self.json(502, {"error": str(err)[:2000]})

    return Handler


def serve(backend, host: str, port: int, warm_every_s: float = 0) -> ThreadingHTTPServer:
    """warm_every_s > 0: the default view comes from a background refresh (Warmer)."""
    warmer = Warmer(backend, warm_every_s) if warm_every_s > 0 else None
    server = ThreadingHTTPServer((host, port), handler_for(backend, warmer))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--brokers", help="consume the Sightline topics of this Kafka into a fresh embedded database")
    source.add_argument("--db", type=Path, help="open this embedded (chdb) database directory as it is")
    source.add_argument("--clickhouse-url", help="a ClickHouse server's HTTP interface with the schema loaded")
    parser.add_argument("--user", help="ClickHouse user (HTTP)")
    parser.add_argument("--password", help="ClickHouse password (HTTP)")
    parser.add_argument("--prefix", default="sightline.", help="topic prefix (with --brokers)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--warm-every-s", type=float, default=5,
                        help="recompute the unfiltered view in the background this often (0: every request queries)")
    args = parser.parse_args(argv)

    engine = None
    if args.clickhouse_url:
        backend = HttpBackend(args.clickhouse_url, args.user, args.password)
    else:
        from . import pipeline
        from .engine import Engine

        if args.brokers:
            db = CACHE / f"dashboard-db-{args.port}"
            import shutil

            shutil.rmtree(db, ignore_errors=True)
            engine = Engine(db)
            # A fresh group: the dashboard reads the topics from the beginning, then follows them.
            pipeline.start(engine, args.brokers, group=f"clickhouse-dashboard-{int(time.time())}", prefix=args.prefix)
        else:
            engine = Engine(args.db.resolve())
        backend = ChdbBackend(engine)
    server = serve(backend, args.host, args.port, args.warm_every_s)
    print(f"dashboard: http://{args.host}:{server.server_address[1]}/", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if engine:
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
