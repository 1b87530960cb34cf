// The SDK half of `make bench`: one scripted session in headless Chromium with and
// without the SDK, several times, interleaved. Writes bench/out/sdk.json (read by
// bench-report) and the recorded request bodies (read by sdk-wire).
//
//   node bench/sdk/bench.mjs --pkg sdk-wasm/pkg --out bench/out [--runs 3]

import { chromium } from 'playwright-core';
import { readFile, writeFile, rm, cp, readdir } from 'node:fs/promises';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './server.mjs';

const { values: opts } = parseArgs({
  options: {
    pkg: { type: 'string', default: 'sdk-wasm/pkg' },
    out: { type: 'string', default: 'bench/out' },
    runs: { type: 'string', default: '3' },
  },
});
const RUNS = Math.min(Math.max(Number(opts.runs) || 3, 1), 10);
const outDir = resolve(opts.out);
const bodiesDir = join(outDir, 'sdk-bodies');
const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
};
/** No step of a session may hang the bench. */
const STEP_TIMEOUT_MS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : 0;
};

async function metrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name) => (metrics.find((m) => m.name === name) || { value: 0 }).value;
  return { task: get('TaskDuration') * 1000, script: get('ScriptDuration') * 1000 };
}

/** Scrolls by `total` pixels in wheel steps, like a reader. */
async function scroll(page, total, step = 400, pauseMs = 80) {
  for (let done = 0; done < Math.abs(total); done += step) {
    await page.mouse.wheel(0, Math.sign(total) * step);
    await sleep(pauseMs);
  }
}

/** The interactions: the same for both variants. */
async function session(page, withSdk) {
  await page.mouse.move(10, 10);
  // Hovers: dwell longer than the SDK's 500 ms threshold on four cards.
  for (let i = 1; i <= 4; i++) {
    await page.hover(`.card:nth-of-type(${i})`, { timeout: STEP_TIMEOUT_MS });
    await sleep(700);
  }
  // Clicks: the call to action and three buttons.
  await page.click('#cta', { timeout: STEP_TIMEOUT_MS });
  for (let i = 1; i <= 3; i++) {
    await page.click(`.card:nth-of-type(${i}) .enrol`, { timeout: STEP_TIMEOUT_MS });
    await sleep(150);
  }
  // Ad 1 has been in view since load; scroll to ads 2 and 3 and stay long enough for
  // each to become viewable (50 % of pixels for 1 s).
  await page.mouse.move(600, 300);
  await scroll(page, 1600);
  await sleep(1300);
  await scroll(page, 1800);
  await sleep(1300);
  await page.click('[data-ad-slot="slot-3"] a', { timeout: STEP_TIMEOUT_MS });
  await scroll(page, 1800);
  await sleep(300);
  if (withSdk) {
    await page.evaluate(() => {
      window.sightline('track', 'lesson_completed', { lesson: 3, score: 91.5, passed: true });
      window.sightline('search', 'graph algorithms', 12);
    });
  }
  // SPA navigation: two client-side page views with a little activity on each.
  await page.click('nav a[href="/courses"]', { timeout: STEP_TIMEOUT_MS });
  await sleep(400);
  await page.hover('.card:nth-of-type(5)', { timeout: STEP_TIMEOUT_MS });
  await sleep(700);
  await page.click('.card:nth-of-type(5) .enrol', { timeout: STEP_TIMEOUT_MS });
  await scroll(page, 2600);
  await sleep(300);
  await page.click('nav a[href="/pricing"]', { timeout: STEP_TIMEOUT_MS }).catch(async () => {
    // The nav scrolled away: go back to the top first.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('nav a[href="/pricing"]', { timeout: STEP_TIMEOUT_MS });
  });
  await sleep(400);
  await page.click('#cta', { timeout: STEP_TIMEOUT_MS });
  await sleep(300);
}

/** Waits until the recorder saw no new request for `quietMs` (at most `maxMs`). */
async function waitQuiet(state, quietMs, maxMs) {
  const end = Date.now() + maxMs;
  let last = state.requests;
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(100);
    if (state.requests !== last) { last = state.requests; since = Date.now(); }
    else if (Date.now() - since >= quietMs) return;
  }
}

async function runOnce(browser, origin, state, withSdk, label) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await context.newPage();
    const sdkFiles = new Set();
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/sdk/')) sdkFiles.add(path.slice('/sdk/'.length));
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    state.record = withSdk;
    state.label = label;
    const requestsBefore = state.requests;
    // "Before" on the new document as soon as it commits: the difference then covers
    // loading, compiling and starting the SDK as well as the session itself.
    await page.goto(`${origin}/?sdk=${withSdk ? 1 : 0}`, { waitUntil: 'commit' });
    const before = await metrics(cdp);
    const t0 = Date.now();
    await page.waitForLoadState('load');
    if (withSdk) {
      await page.waitForFunction(() => typeof window.sightline === 'function' && !window.sightline.q, null, { timeout: STEP_TIMEOUT_MS });
    }
    await session(page, withSdk);
    const after = await metrics(cdp);
    const sessionMs = Date.now() - t0;
    const longtasks = await page.evaluate(() => window.__longtasks || []);
    const userAgent = await page.evaluate(() => navigator.userAgent);
    // Page hide: leaving the page fires pagehide / visibilitychange, the SDK's last flush.
    await page.goto('about:blank');
    await waitQuiet(state, 800, 5000);
    state.record = false;
    return {
      task: after.task - before.task,
      script: after.script - before.script,
      longTasks: longtasks.length,
      longTaskMs: longtasks.reduce((a, b) => a + b, 0),
      requests: state.requests - requestsBefore,
      sdkFiles: [...sdkFiles],
      sessionMs,
      userAgent,
    };
  } finally {
    await context.close();
  }
}

async function main() {
  // Measure a snapshot: a `make sdk` running meanwhile (it empties pkg/ first) must not
  // pull the files from under a session.
  const pkgDir = join(outDir, 'sdk-pkg');
  await rm(pkgDir, { recursive: true, force: true });
  await cp(resolve(opts.pkg), pkgDir, { recursive: true });
  await rm(bodiesDir, { recursive: true, force: true });
  const { server, state, origin, snippetBytes } = await startServer({ pkgDir, bodiesDir });
  const browser = await chromium.launch(LAUNCH);
  const runs = { with: [], without: [] };
  const failed = [];
  try {
    // Interleaved, so a burst of load from elsewhere hits both variants alike.
    // A session that fails (a timeout on a starved machine) is reported and left out;
    // the medians use the pairs that completed.
    for (let r = 1; r <= RUNS; r++) {
      try {
        const o = await runOnce(browser, origin, state, false, `without-${r}`);
        const w = await runOnce(browser, origin, state, true, `run-${r}`);
        runs.without.push(o);
        runs.with.push(w);
        console.log(`sdk bench run ${r}/${RUNS}: task ${w.task.toFixed(1)} ms with SDK vs ${o.task.toFixed(1)} ms without; ${w.requests} requests`);
      } catch (e) {
        state.record = false;
        // Its recorded requests would count events for a session that is not reported.
        for (const name of await readdir(bodiesDir)) {
          if (name.startsWith(`run-${r}-`)) await rm(join(bodiesDir, name), { force: true });
        }
        failed.push(`run ${r}: ${String(e && e.message || e).split('\n')[0]}`);
        console.log(`sdk bench run ${r}/${RUNS} failed: ${failed.at(-1)}`);
      }
    }
    if (runs.with.length === 0) throw new Error(`every session failed: ${failed.join('; ')}`);
  } finally {
    await browser.close();
    server.close();
  }
  const cost = (xs) => ({
    task_ms: median(xs.map((x) => x.task)),
    script_ms: median(xs.map((x) => x.script)),
    long_tasks: median(xs.map((x) => x.longTasks)),
    long_task_ms: median(xs.map((x) => x.longTaskMs)),
  });
  const names = [...new Set(runs.with.flatMap((x) => x.sdkFiles))].sort();
  const files = [];
  for (const name of names) {
    const data = await readFile(join(pkgDir, name));
    files.push({
      name,
      bytes: data.length,
      gzip: gzipSync(data, { level: 9 }).length,
      brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    });
  }
  const report = {
    runs: runs.with.length,
    files,
    with_sdk: cost(runs.with),
    without_sdk: cost(runs.without),
    requests_per_session: runs.with.reduce((a, x) => a + x.requests, 0) / runs.with.length,
    user_agent: runs.with[0]?.userAgent || '',
    session_ms: median(runs.with.map((x) => x.sessionMs)),
    notes: [
      `The inline loader snippet adds ${snippetBytes} bytes (with the init call) to the page's HTML; it is not counted in the download above.`,
      'Main-thread time is measured from the document commit to the end of the session, so it includes downloading, compiling and starting the SDK.',
      'Captured events are the highest Event.seq per page session (seq is gap-free from 1); delivered are distinct event ids received.',
      `Per run, task ms with SDK: ${runs.with.map((x) => x.task.toFixed(1)).join(', ')}; without: ${runs.without.map((x) => x.task.toFixed(1)).join(', ')}.`,
      ...failed.map((f) => `Failed session, left out: ${f}.`),
    ],
  };
  await writeFile(join(outDir, 'sdk.json'), JSON.stringify(report, null, 2));
  console.log(`sdk bench: ${files.length} SDK files, ${report.requests_per_session.toFixed(1)} requests per session`);
}

main().catch((e) => {
  console.error(`sdk bench failed: ${e && e.stack || e}`);
  process.exit(1);
});
