// Proof 5 of issue 8: a Playwright session (real Chromium, the built SDK) against the REAL
// collector binary and a REAL Kafka broker. The page captures events while the collector is
// down for SIGHTLINE_PROOF5_OUTAGE_S seconds (default 120; SIGKILLed, restarted on the same
// port with the same spool), with a page reload in the middle of the outage. After recovery
// every captured event must be in Kafka: none lost, duplicates counted, and the SDK's
// durable queue (IndexedDB + localStorage) must have stayed under its byte cap.
//
//   SIGHTLINE_KAFKA=127.0.0.1:19292 node tests/browser/proof5-browser.mjs
//
// Environment: SIGHTLINE_KAFKA (bootstrap, required), SIGHTLINE_COLLECTOR_BIN (default
// target/debug/sightline-collector), SIGHTLINE_TAIL (default target/debug/sightline-tail),
// SIGHTLINE_PROOF5_OUTAGE_S (120), SIGHTLINE_RELIABILITY_SUMMARY (file the summary line is
// appended to, see scripts/test-reliability.sh). Loopback only; every wait is bounded; it
// exits non-zero on any loss, an eviction or a queue above its cap.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRecorder, launch, queueState } from './harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const brokers = process.env.SIGHTLINE_KAFKA;
if (!brokers) {
  console.error('proof5: set SIGHTLINE_KAFKA to the bootstrap of a test broker (not the shared 9092)');
  process.exit(2);
}
const collectorBin = process.env.SIGHTLINE_COLLECTOR_BIN || path.join(root, 'target/debug/sightline-collector');
const tailBin = process.env.SIGHTLINE_TAIL || path.join(root, 'target/debug/sightline-tail');
const outageS = Number(process.env.SIGHTLINE_PROOF5_OUTAGE_S || 120);
/** The SDK's default queue cap (core::config::DEFAULT_RETRY_BYTES); the page keeps it. */
const QUEUE_CAP = 1024 * 1024;
/** Longest SDK backoff (core::backoff::MAX_DELAY_MS) plus room for the replay to Kafka. */
const RECOVERY_TIMEOUT_MS = 60_000 + 90_000;
const EVENT_EVERY_MS = 500;

const log = (...args) => console.error('proof5:', ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** The real collector (example config, site `demo`), limits off, waiting for /healthz. */
async function startCollector(port, spoolDir) {
  const child = spawn(collectorBin, ['--config', path.join(root, 'collector/sightline.example.toml'),
    '--listen', `127.0.0.1:${port}`, '--brokers', brokers], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      SIGHTLINE__SPOOL__DIR: spoolDir,
      SIGHTLINE__RATE_LIMITS__PER_IP_PER_S: '0',
      SIGHTLINE__RATE_LIMITS__PER_SITE_EVENTS_PER_S: '0',
      SIGHTLINE__RATE_LIMITS__HOT_USER_EVENTS_PER_S: '0',
      SIGHTLINE__KAFKA__HEALTH_CHECK_INTERVAL_MS: '500',
      RUST_LOG: 'warn',
    },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch { /* not listening yet */ }
    if (child.exitCode !== null) throw new Error(`collector exited during start-up (${child.exitCode})`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('collector did not answer /healthz within 30 s'); }
    await sleep(100);
  }
}

function killCollector(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** This visitor's custom events, page views and clicks in Kafka: [{id, kind, name, n}]. The
 * collector's default layout puts every event of a request in one record on sightline.events
 * (sightline-tail prints one line per event); the kind topics are read too, for the per_kind and
 * per_event layouts. */
async function readKafka(anonymousId) {
  const { stdout } = await run(tailBin, ['--brokers', brokers, '--topic', 'events,custom,page_views,clicks', '--user', anonymousId,
    '--from-beginning', '--until-end', '--until-end-timeout-secs', '30'], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((r) => r.collected).map((r) => {
    const event = r.collected.event;
    const custom = event.kind.Custom;
    const n = custom?.properties.find((p) => p.key === 'n');
    return { id: event.event_id, kind: r.kind, name: custom?.name, n: n ? Number(Object.values(n.value)[0]) : null };
  });
}

const children = [];
let recorder, browser, spoolDir;
async function cleanup() {
  await browser?.close().catch(() => {});
  recorder?.stop();
  for (const child of children) await killCollector(child);
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
}

async function main() {
  spoolDir = mkdtempSync(path.join(tmpdir(), 'sightline-proof5-'));
  const port = await freePort();
  recorder = await startRecorder(); // serves the page and the SDK package (another origin)
  let collector = await startCollector(port, spoolDir);
  children.push(collector);
  log(`collector on 127.0.0.1:${port}, Kafka ${brokers}, page server ${recorder.url}, outage ${outageS} s`);

  browser = await launch();
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (/evicted/.test(m.text())) consoleErrors.push(m.text()); });
  const url = `${recorder.url}/pages/proof5.html?collector=${encodeURIComponent(`http://127.0.0.1:${port}`)}`;
  const load = async () => {
    if (page.url() === url) await page.reload(); else await page.goto(url);
    await page.waitForFunction(() => window.ready === true);
  };
  await load();
  let loads = 1;
  const anonymousId = await page.evaluate(() => localStorage.getItem('sl_aid'));
  let n = 0;
  const capture = () => page.evaluate((i) => window.sdk.track('proof5', { n: i }), n++);
  let maxBytes = 0, maxRecords = 0, evicted = 0;
  const sample = async () => {
    const q = await queueState(page);
    maxBytes = Math.max(maxBytes, q.bytes);
    maxRecords = Math.max(maxRecords, (q.idb || []).length + q.ls.length);
    evicted = q.evicted;
  };

  // Before the outage: a few events delivered normally.
  for (let i = 0; i < 6; i++) { await capture(); await sleep(EVENT_EVERY_MS); }
  await page.click('#buy');
  let clicks = 1;
  await sleep(1500);

  log('SIGKILL the collector');
  await killCollector(collector);
  const outageStarted = Date.now();
  let reloaded = false;
  while (Date.now() - outageStarted < outageS * 1000) {
    await capture();
    if (n % 10 === 0) { await page.click('#buy'); clicks++; }
    if (!reloaded && Date.now() - outageStarted >= outageS * 500) {
      // Mid-outage reload: the open batch is sealed at pagehide and written synchronously.
      await capture();
      await sample();
      log(`reload during the outage (queue: ${maxRecords} records, ${maxBytes} bytes so far)`);
      await load();
      loads++;
      reloaded = true;
    }
    await sample();
    await sleep(EVENT_EVERY_MS);
  }
  log(`restart the collector after ${((Date.now() - outageStarted) / 1000).toFixed(0)} s`);
  collector = await startCollector(port, spoolDir);
  children.push(collector);
  const recovered = Date.now();
  // A few events after the restart too (they wait in the queue while the backoff runs).
  for (let i = 0; i < 4; i++) { await capture(); await sleep(EVENT_EVERY_MS); }
  await sample();

  // Wait for the page's queue to empty (its backoff is at most 60 s), then for Kafka.
  const captured = n;
  let drainedMs = null, found = [];
  const deadline = recovered + RECOVERY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const q = await queueState(page);
    if (drainedMs === null && (q.idb || []).length + q.ls.length === 0) drainedMs = Date.now() - recovered;
    if (drainedMs !== null) {
      await page.evaluate(() => window.sdk.flush());
      found = await readKafka(anonymousId);
      const ns = new Set(found.filter((e) => e.name === 'proof5').map((e) => e.n));
      if (ns.size >= captured) break;
    }
    await sleep(2000);
  }
  await sleep(3000); // late duplicates
  found = await readKafka(anonymousId);
  const customs = found.filter((e) => e.name === 'proof5');
  const seen = new Set(customs.map((e) => e.n));
  const lost = [...Array(captured).keys()].filter((i) => !seen.has(i));
  const ids = found.map((e) => e.id);
  const duplicates = ids.length - new Set(ids).size;
  const pageViews = new Set(found.filter((e) => e.kind === 'page_view').map((e) => e.id)).size;
  const clicksFound = new Set(found.filter((e) => e.kind === 'click').map((e) => e.id)).size;

  // "acked" here = captured by the page (the SDK acknowledges nothing to anyone).
  const lostCount = lost.length + Math.max(0, loads - pageViews) + Math.max(0, clicks - clicksFound);
  const ok = lostCount === 0 && maxBytes <= QUEUE_CAP && evicted === 0 && drainedMs !== null;
  const line = `${'proof5_browser'.padEnd(28)} acked=${captured + loads + clicks} lost=${lostCount} duplicates=${duplicates} `
    + `custom=${seen.size}/${captured} page_views=${pageViews}/${loads} clicks=${clicksFound}/${clicks} `
    + `outage_s=${outageS} reload_during_outage=${reloaded} `
    + `queue_max_bytes=${maxBytes} queue_max_records=${maxRecords} cap=${QUEUE_CAP} evicted=${evicted} `
    + `drained_after_restart_s=${drainedMs === null ? 'never' : (drainedMs / 1000).toFixed(1)}`;
  console.error(`RELIABILITY ${line}`);
  if (process.env.SIGHTLINE_RELIABILITY_SUMMARY) appendFileSync(process.env.SIGHTLINE_RELIABILITY_SUMMARY, `${line}\n`);
  if (lost.length) log(`lost n: ${lost.slice(0, 20).join(',')}${lost.length > 20 ? '…' : ''}`);
  if (consoleErrors.length) log(`SDK reported: ${consoleErrors.slice(0, 3).join(' | ')}`);
  return ok;
}

const timer = setTimeout(() => { log('timed out'); cleanup().finally(() => process.exit(1)); },
  (outageS + 420) * 1000);
main().then(async (ok) => {
  clearTimeout(timer);
  await cleanup();
  process.exit(ok ? 0 : 1);
}, async (error) => {
  clearTimeout(timer);
  log(error?.stack || error);
  await cleanup();
  process.exit(1);
});
