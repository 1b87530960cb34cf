// Optional modules (sdk-wasm/js/modules/, built as pkg/sightline-<name>.js): a page
// downloads one only when it needs it. The TCF bridge is fetched on a page with a
// consent-management platform (`window.__tcfapi`) and delivers the CMP's signal to the
// wasm core through the dispatch table; the durable queue's lease lock only where Web Locks
// are missing. A page needing neither requests neither.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, launch, waitForEvents, kindOf, until } from './harness.mjs';

let recorder, browser;
before(async () => {
  recorder = await startRecorder();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  recorder?.stop();
});

/** Opens optional.html, recording every URL the page requests and its console errors. */
async function open(query, init) {
  const page = await browser.newPage();
  if (init) await page.addInitScript(init);
  const requests = [];
  const console = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  page.on('console', (message) => console.push(message.text()));
  await page.goto(`${recorder.url}/pages/optional.html${query}`);
  await page.waitForFunction(() => window.ready === true);
  return { page, requests, console };
}

/** Sends a probe event and waits until the recorder has it: the SDK has started and run. */
async function probe(page, name) {
  await page.evaluate((n) => { window.sdk.track(n); window.sdk.flush(); }, name);
  const { events } = await waitForEvents(recorder, (evs) => evs.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === name));
  assert.ok(events.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === name), `${name} delivered`);
}

test('a page without a consent-management platform never fetches the TCF module', async () => {
  await recorder.control('reset=1');
  const { page, requests } = await open('');
  // The decision is taken when the SDK starts; a delivered event proves it has started and run.
  await probe(page, 'no-cmp');
  assert.ok(requests.includes('/pkg/sightline_sdk_bg.wasm'), 'the main bundle was loaded');
  assert.deepEqual(requests.filter((p) => p.includes('sightline-tcf')), [], 'no TCF module');
  assert.deepEqual(requests.filter((p) => p.includes('sightline-lease')), [], 'Web Locks: no lease module');
  await page.close();
});

test('a page with a CMP fetches the TCF module, which hands the signal to the core', async () => {
  await recorder.control('reset=1');
  const { page, requests } = await open('?cmp=1');
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('/pkg/sightline-tcf.js')));
  assert.deepEqual(requests.filter((p) => p.includes('sightline-tcf')), ['/pkg/sightline-tcf.js'], 'fetched once, next to the glue');
  // The module mapped the CMP's purposes and the core applied them: the batch says so. The
  // module loads asynchronously, so probe until a batch carries the TCF source.
  const fromTcf = await until(async () => {
    await probe(page, 'with-cmp');
    const { events } = await waitForEvents(recorder, () => true);
    return events.some((e) => e.batch.consent?.source === 3);
  });
  assert.ok(fromTcf, 'a batch carries consent.source TCF');
  await page.close();
});

test('without Web Locks the queue fetches the lease module, and a batch stored in an outage still arrives', async () => {
  await recorder.control('reset=1');
  await recorder.control('fail=503&count=1');
  const { page, requests } = await open('', () => { delete Navigator.prototype.locks; });
  // The collector fails: the batch goes to the durable queue.
  await page.evaluate(() => { window.sdk.track('stored'); window.sdk.flush(); });
  await until(() => requests.filter((p) => p === '/v1/batch').length >= 1);
  // The backoff ends (or `online`): the drain takes the lease lock, which needs the module.
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  const { events } = await waitForEvents(recorder, (evs) => evs.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === 'stored'));
  assert.ok(events.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === 'stored'), 'delivered from the queue');
  assert.ok(requests.includes('/pkg/sightline-lease.js'), 'the lease module was fetched');
  await page.close();
});
