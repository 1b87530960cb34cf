// The SDK's durable queue (issue 8) in headless Chromium: batches the collector does not
// take land in IndexedDB (localStorage when IndexedDB is unavailable, and at page hide),
// survive reloads, are delivered on the next load or the `online` event, are drained by one
// tab at a time, and stay under a byte cap that evicts the oldest first and counts it.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, launch, waitForEvents, kindOf, queueState, until } from './harness.mjs';

let recorder, browser;
before(async () => {
  recorder = await startRecorder();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  recorder?.stop();
});
// A failed test must not leave tabs retrying into the next one.
afterEach(async () => {
  for (const context of browser.contexts()) await context.close();
});

const FAIL = 'fail=503&count=1000000';
const RECOVER = 'fail=503&count=0';
const customs = (events) => events.filter((e) => kindOf(e) === 'Custom').map((e) => e.kind.Custom.name);

async function open(context, query = '') {
  const page = await context.newPage();
  await page.goto(`${recorder.url}/pages/basic.html${query}`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** Every event and every batch (page session + batch_seq) arrived exactly once. */
function assertNoDuplicates(state, events) {
  const batchKeys = state.batches.map((b) => `${b.identity.page_session_id}/${b.batch_seq}`);
  assert.equal(new Set(batchKeys).size, batchKeys.length, `a batch was sent twice: ${batchKeys.sort()}`);
  assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'an event arrived twice');
}

test('failed batches land in IndexedDB, survive a reload during the outage, and the next load delivers them', async () => {
  await recorder.control('reset=1');
  await recorder.control(FAIL);
  const context = await browser.newContext();
  let page = await open(context);
  await page.evaluate(() => { window.sdk.track('a', {}); window.sdk.flush(); });
  let q = await until(async () => { const s = await queueState(page); return s.idb?.length >= 1 && s; });
  assert.ok(q, 'the batch the collector refused (503) is in IndexedDB');
  // The backoff is running: a fresh batch goes straight to the queue.
  await page.evaluate(() => { window.sdk.track('b', {}); window.sdk.flush(); });
  q = await until(async () => { const s = await queueState(page); return s.idb?.length >= 2 && s; });
  assert.ok(q, 'the second batch is queued too');
  await page.evaluate(() => window.sdk.track('c', {})); // still in the open batch at the reload
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  q = await queueState(page);
  assert.ok(q.idb.length >= 2, `IndexedDB still holds the earlier batches: ${JSON.stringify(q)}`);
  assert.ok(q.ls.length >= 1, `the batch sealed at pagehide went to localStorage (synchronous): ${JSON.stringify(q)}`);
  let state = await recorder.batches();
  assert.equal(state.batches.length, 0, 'nothing got through during the outage');
  assert.ok(state.failed >= 2, `the SDK kept trying (${state.failed} failed requests)`);

  await recorder.control(RECOVER);
  await page.reload(); // delivered on the next page load
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => window.sdk.flush());
  const { events, state: after } = await waitForEvents(recorder, (evs) => ['a', 'b', 'c'].every((n) => customs(evs).includes(n))
    && evs.filter((e) => kindOf(e) === 'PageView').length >= 3, 15_000);
  assert.deepEqual(customs(events).sort(), ['a', 'b', 'c']);
  assert.equal(events.filter((e) => kindOf(e) === 'PageView').length, 3, 'one page view per load');
  q = await until(async () => { const s = await queueState(page); return s.idb.length + s.ls.length === 0 && s; });
  assert.ok(q, 'delivered batches are deleted from the queue');
  await new Promise((r) => setTimeout(r, 1000)); // room for a late duplicate
  state = await recorder.batches();
  assertNoDuplicates(state, state.batches.flatMap((b) => b.events));
  assert.equal(after.undecodable, 0);
  await context.close();
});

for (const variant of ['Web Locks', 'lease record']) {
  test(`two tabs share the queue and never send a stored batch twice (${variant})`, async () => {
    await recorder.control('reset=1');
    await recorder.control(FAIL);
    const context = await browser.newContext();
    if (variant === 'lease record') await context.addInitScript(() => { delete Navigator.prototype.locks; });
    const tabs = [await open(context), await open(context)];
    assert.equal(await tabs[0].evaluate(() => !!navigator.locks), variant === 'Web Locks');
    const names = [];
    for (let i = 0; i < 4; i++) {
      for (const [t, tab] of tabs.entries()) {
        names.push(`tab${t}-${i}`);
        await tab.evaluate((name) => { window.sdk.track(name, {}); window.sdk.flush(); }, `tab${t}-${i}`);
      }
    }
    const q = await until(async () => { const s = await queueState(tabs[0]); return s.idb.length >= 8 && s; });
    assert.ok(q, 'both tabs queued their batches in the one IndexedDB store');
    await recorder.control(RECOVER);
    // Both tabs try to drain at the same moment: only the lock holder may send.
    await Promise.all(tabs.map((tab) => tab.evaluate(() => window.dispatchEvent(new Event('online')))));
    let { events } = await waitForEvents(recorder, (evs) => customs(evs).length >= names.length, 15_000);
    assert.deepEqual(customs(events).sort(), names.sort());
    await new Promise((r) => setTimeout(r, 1500)); // both tabs' own retry timers run again meanwhile
    const { state } = await waitForEvents(recorder, () => false, 0);
    events = state.batches.flatMap((b) => b.events);
    assertNoDuplicates(state, events);
    const left = await queueState(tabs[1]);
    assert.equal(left.idb.length + left.ls.length, 0, 'the queue is empty');
    await context.close();
  });
}

test('the byte cap evicts the oldest batches first, counts them, and the next batches report the count once', async () => {
  await recorder.control('reset=1');
  await recorder.control(FAIL);
  const context = await browser.newContext();
  const page = await open(context, '?queueBytes=65536');
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  // Debug mode logs every eviction ('queue full, evicted N'): the ground truth, since the
  // SDK resets localStorage 'sl_qe' whenever it builds a batch that reports the count.
  const logged = () => logs.map((l) => l.match(/queue full, evicted (\d+)/)).filter(Boolean).reduce((a, m) => a + Number(m[1]), 0);
  const big = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`p${i}`, 'x'.repeat(500)]));
  const names = Array.from({ length: 8 }, (_, i) => `big-${i}`);
  for (const name of names) {
    await page.evaluate(([n, props]) => { window.sdk.track(n, props); window.sdk.flush(); }, [name, big]);
  }
  // Each flush is one record (~13 KB); 8 of them do not fit in 64 KiB.
  const q = await until(async () => { const s = await queueState(page); return s.idb.length + logged() === names.length && s; });
  assert.ok(q, `every batch was stored or evicted: ${JSON.stringify(await queueState(page))}, logged ${logged()}`);
  assert.ok(q.bytes <= 65536, `stored ${q.bytes} bytes, cap 65536`);
  const evicted = logged();
  assert.ok(evicted >= 3, `evicted ${evicted}`);
  // Batches built after an eviction already took their share of the count out of sl_qe
  // (how many did depends on when IndexedDB ran each eviction: possibly none).
  assert.ok(q.evicted <= evicted, `sl_qe holds only the evictions not yet reported: ${q.evicted}`);
  await recorder.control(RECOVER);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  const kept = q.idb.length;
  const { events, state } = await waitForEvents(recorder, (evs) => customs(evs).length >= kept, 15_000);
  assert.deepEqual(customs(events), names.slice(names.length - kept), 'the newest batches survived, in order');
  assert.equal(evicted, names.length - kept, 'every batch not delivered was counted as evicted');
  assertNoDuplicates(state, events);

  // The count left in sl_qe goes out with the next batch built; then it is reset.
  await page.evaluate(() => { window.sdk.track('after', {}); window.sdk.flush(); });
  const { state: reported } = await waitForEvents(recorder, (evs) => customs(evs).includes('after'));
  const reports = reported.batches.map((b) => Number(b.evicted_batches || 0));
  assert.equal(reports.reduce((a, b) => a + b, 0), evicted, `delivered batches report every eviction once: ${reports}`);
  assert.equal((await queueState(page)).evicted, 0, 'sl_qe is reset once reported');
  await page.evaluate(() => { window.sdk.track('later', {}); window.sdk.flush(); });
  const { state: last } = await waitForEvents(recorder, (evs) => customs(evs).includes('later'));
  const later = last.batches.find((b) => b.events.some((e) => e.kind?.Custom?.name === 'later'));
  assert.equal(Number(later.evicted_batches || 0), 0, 'a later batch reports nothing');
  await context.close();
});

test('without IndexedDB the queue falls back to localStorage', async () => {
  await recorder.control('reset=1');
  await recorder.control(FAIL);
  const context = await browser.newContext();
  await context.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
  const page = await open(context);
  await page.evaluate(() => { window.sdk.track('ls-a', {}); window.sdk.flush(); });
  let q = await until(async () => { const s = await queueState(page); return s.ls.length >= 1 && s; });
  assert.ok(q, 'the failed batch is in localStorage');
  assert.equal(q.idb, null);
  await page.evaluate(() => { window.sdk.track('ls-b', {}); window.sdk.flush(); });
  await until(async () => (await queueState(page)).ls.length >= 2);
  await recorder.control(RECOVER);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const { events, state } = await waitForEvents(recorder, (evs) => customs(evs).length >= 2, 15_000);
  assert.deepEqual(customs(events).sort(), ['ls-a', 'ls-b']);
  q = await until(async () => { const s = await queueState(page); return s.ls.length === 0 && s; });
  assert.ok(q, 'delivered records are removed from localStorage');
  assertNoDuplicates(state, events);
  await context.close();
});
