// Privacy (issue 18) in headless Chromium: what the SDK sends and stores in each identity
// mode. Every batch is decoded by the Rust recorder (sightline-proto); the assertions are on
// the batch's privacy_mode and consent fields, its identity, the events that arrive, and the
// page's localStorage, cookies and IndexedDB. (The collector's own enforcement and its
// derived visitor id are tested on the collector's side.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, launch, waitForEvents, kindOf, until } from './harness.mjs';

// sightline.v1 enum values as the recorder's JSON shows them.
const MODE = { PERSISTENT: 1, COOKIELESS: 2, RESTRICTED: 3 };
const STATE = { UNSPECIFIED: 0, GRANTED: 1, DENIED: 2 };
const SOURCE = { DEFAULT: 1, API: 2, TCF: 3, GPC: 4 };

let recorder, browser;
before(async () => {
  recorder = await startRecorder();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  recorder?.stop();
});

/** A fresh context (empty storage) on privacy.html with `query`; `init` runs before the page. */
async function open(query, init) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  await page.goto(`${recorder.url}/pages/privacy.html${query}`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** What the page's origin holds: localStorage keys, cookies, IndexedDB database names. */
async function stored(page) {
  return page.evaluate(async () => ({
    local: Object.keys(localStorage).sort(),
    cookie: document.cookie,
    idb: (await indexedDB.databases()).map((d) => d.name),
  }));
}

/** track(name) + flush(), and waits until the recorder has that event: returns it (with its batch). */
async function probe(page, name) {
  await page.evaluate((n) => { window.sdk.track(n); window.sdk.flush(); }, name);
  const isIt = (e) => kindOf(e) === 'Custom' && e.kind.Custom.name === name;
  const { events } = await waitForEvents(recorder, (evs) => evs.some(isIt));
  const event = events.find(isIt);
  assert.ok(event, `${name} delivered`);
  return event;
}

test('GPC: cookieless by default, nothing stored, no ids sent, events still delivered', async () => {
  await recorder.control('reset=1');
  const page = await open('', () => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
    // An id left by an earlier visit without GPC: neither read nor sent, and deleted.
    localStorage.setItem('sl_aid', 'a'.repeat(32));
    localStorage.setItem('sl_sid', 'b'.repeat(32) + '.1');
  });
  await page.evaluate(() => window.sdk.identify('u1', { college: 'X' }));
  const event = await probe(page, 'gpc-probe');
  const batch = event.batch;
  assert.equal(batch.privacy_mode, MODE.COOKIELESS);
  assert.deepEqual(batch.consent, {
    measurement: STATE.GRANTED, personalization: STATE.DENIED, storage: STATE.DENIED,
    source: SOURCE.GPC, gpc: true, minor: false,
  });
  assert.equal(batch.identity.anonymous_id, '', 'no anonymous id');
  assert.equal(batch.identity.user_id, '', 'no user id even after identify');
  assert.deepEqual(batch.identity.traits, {}, 'no traits either (docs/privacy.md: no identity from the browser)');
  assert.match(batch.identity.session_id, /^[0-9a-f]{32}$/, 'the in-memory session id stays');
  assert.notEqual(batch.identity.session_id, 'b'.repeat(32), 'the stored session is not read');
  // The page view of the load came first, cookieless too.
  const { events } = await waitForEvents(recorder, () => true);
  assert.ok(events.some((e) => kindOf(e) === 'PageView' && e.batch.privacy_mode === MODE.COOKIELESS));
  assert.ok(events.every((e) => e.batch.identity.anonymous_id === ''), 'no batch carried an anonymous id');
  // Leaving the page (pagehide) writes nothing either: no durable queue without storage.
  await page.evaluate(() => window.sdk.track('after'));
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
  assert.deepEqual(await stored(page), { local: [], cookie: '', idb: [] }, 'nothing written, old ids deleted');
  await page.context().close();

  // respectGlobalPrivacyControl: false keeps today's behaviour.
  await recorder.control('reset=1');
  const off = await open('?gpc=off', () => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  });
  const persistent = await probe(off, 'gpc-off');
  assert.equal(persistent.batch.privacy_mode, MODE.PERSISTENT);
  assert.equal(persistent.batch.consent.source, SOURCE.DEFAULT);
  assert.equal(persistent.batch.consent.gpc, false, 'not honoured: not reported as applied');
  assert.match(persistent.batch.identity.anonymous_id, /^[0-9a-f]{32}$/);
  assert.ok((await stored(off)).local.includes('sl_aid'));
  await off.context().close();
});

test('a known minor is restricted: no ids, traits or experiments; page views and ads only', async () => {
  await recorder.control('reset=1');
  const page = await open('?ads=1');
  await page.evaluate(() => {
    window.sdk.setExperiment('pricing', 'b');
    window.sdk.identify('u1', { college: 'X' }, { minor: true });
  });
  // Behaviour a restricted visitor must not have recorded: hover, scroll, click, search, custom.
  await page.hover('#buy');
  await page.waitForTimeout(300);
  await page.mouse.move(900, 700);
  await page.click('#link');
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForTimeout(200);
  await page.evaluate(() => { window.sdk.search('class 12 physics', 3); window.sdk.track('enrolled'); });
  await page.evaluate(() => window.scrollTo(0, 0));
  // A new page view (SPA) and the ad, in view for more than a second: VIEWABLE.
  await page.waitForTimeout(1300);
  await page.evaluate(() => history.pushState({}, '', '/pages/privacy.html?ads=1&step=2'));
  await page.evaluate(() => window.sdk.flush());
  const { events } = await waitForEvents(recorder, (evs) =>
    evs.some((e) => kindOf(e) === 'AdImpression') && evs.filter((e) => kindOf(e) === 'PageView').length >= 2);
  const restricted = events.filter((e) => e.batch.privacy_mode === MODE.RESTRICTED);
  assert.ok(restricted.length > 0, 'restricted batches arrived');
  assert.deepEqual([...new Set(restricted.map(kindOf))].sort(), ['AdImpression', 'PageView'],
    `only page views and ad impressions: ${restricted.map(kindOf)}`);
  for (const e of restricted) {
    const { identity, consent, experiments } = e.batch;
    assert.equal(identity.anonymous_id, '');
    assert.equal(identity.user_id, '');
    assert.equal(identity.session_id, '');
    assert.deepEqual(identity.traits, {});
    assert.deepEqual(experiments, {});
    assert.equal(consent.minor, true);
  }
  // Nothing behavioural arrived at all, in any batch, after identify.
  const kinds = events.map(kindOf);
  for (const kind of ['Hover', 'Scroll', 'Click', 'Search', 'Custom']) assert.ok(!kinds.includes(kind), `no ${kind}: ${kinds}`);
  assert.deepEqual((await stored(page)).local.filter((k) => k === 'sl_aid' || k === 'sl_sid'), [], 'stored ids deleted');
  await page.context().close();

  // init({ audience: 'minor' }): restricted from the first event.
  await recorder.control('reset=1');
  const marked = await open('?audience=minor');
  await marked.evaluate(() => window.sdk.flush());
  const { events: loaded } = await waitForEvents(recorder, (evs) => evs.some((e) => kindOf(e) === 'PageView'));
  const view = loaded.find((e) => kindOf(e) === 'PageView');
  assert.ok(view, 'the page view arrived');
  assert.equal(view.batch.privacy_mode, MODE.RESTRICTED);
  assert.equal(view.batch.identity.anonymous_id, '');
  // No id stored (the durable queue may hold its id-free batches: storage is granted).
  const kept = await stored(marked);
  assert.deepEqual([kept.local, kept.cookie], [[], ''], 'no id stored for a restricted page');
  await marked.context().close();
});

test('consent object form: a change mid-page applies from the next event', async () => {
  await recorder.control('reset=1');
  const page = await open('');
  const first = await probe(page, 'c1');
  assert.equal(first.batch.privacy_mode, MODE.PERSISTENT);
  const anonymousId = first.batch.identity.anonymous_id;
  assert.match(anonymousId, /^[0-9a-f]{32}$/);
  assert.ok((await stored(page)).local.includes('sl_aid'));

  await page.evaluate(() => window.sdk.consent({ storage: 'denied' }));
  const second = await probe(page, 'c2');
  assert.notEqual(second.batch.batch_seq, first.batch.batch_seq);
  assert.equal(second.batch.privacy_mode, MODE.COOKIELESS);
  assert.deepEqual(second.batch.consent, {
    measurement: STATE.GRANTED, personalization: STATE.GRANTED, storage: STATE.DENIED,
    source: SOURCE.API, gpc: false, minor: false,
  });
  assert.equal(second.batch.identity.anonymous_id, '');
  assert.ok(!(await stored(page)).local.includes('sl_aid'), 'storage refused: the id is deleted');

  await page.evaluate(() => window.sdk.consent({ storage: 'granted' }));
  const third = await probe(page, 'c3');
  assert.equal(third.batch.privacy_mode, MODE.PERSISTENT);
  assert.match(third.batch.identity.anonymous_id, /^[0-9a-f]{32}$/);
  assert.notEqual(third.batch.identity.anonymous_id, anonymousId, 'a new id after the erasure');

  // Measurement denied: nothing more is sent; the short form still works.
  await page.evaluate(() => { window.sdk.consent({ measurement: 'denied' }); window.sdk.track('c4'); window.sdk.flush(); });
  await page.evaluate(() => { window.sdk.consent('granted'); });
  const fifth = await probe(page, 'c5');
  assert.equal(fifth.batch.consent.measurement, STATE.GRANTED);
  const { events } = await waitForEvents(recorder, () => true);
  assert.ok(!events.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === 'c4'), 'c4 was not sent');
  // An invalid purpose or state changes nothing.
  await page.evaluate(() => { window.sdk.consent({ storage: 'maybe' }); window.sdk.consent({ tracking: 'granted' }); });
  const sixth = await probe(page, 'c6');
  assert.equal(sixth.batch.privacy_mode, MODE.PERSISTENT);
  await page.context().close();
});

test('TCF CMP: purpose 1 refused → cookieless; the user then grants all → persistent from the next event', async () => {
  await recorder.control('reset=1');
  const page = await open('?cmp=1&consent=pending&consents=3,4,7,8,9');
  await until(() => page.evaluate(() => window.cmpListeners() === 1));
  const first = await probe(page, 't1');
  assert.equal(first.batch.privacy_mode, MODE.COOKIELESS);
  assert.deepEqual(first.batch.consent, {
    measurement: STATE.GRANTED, personalization: STATE.GRANTED, storage: STATE.DENIED,
    source: SOURCE.TCF, gpc: false, minor: false,
  });
  assert.equal(first.batch.identity.anonymous_id, '');
  assert.deepEqual(await stored(page), { local: [], cookie: '', idb: [] }, 'nothing stored without purpose 1');

  await page.evaluate(() => window.cmpAct('1,3,4', '7,8,9'));
  const second = await probe(page, 't2');
  assert.equal(second.batch.privacy_mode, MODE.PERSISTENT);
  assert.equal(second.batch.consent.storage, STATE.GRANTED);
  assert.equal(second.batch.consent.measurement, STATE.GRANTED, 'measurement by legitimate interest');
  assert.match(second.batch.identity.anonymous_id, /^[0-9a-f]{32}$/);
  assert.ok((await stored(page)).local.includes('sl_aid'));
  // The events recorded before the answer stayed in their cookieless batch.
  assert.notEqual(second.batch.batch_seq, first.batch.batch_seq);

  // The user withdraws measurement (7 missing): nothing more is sent.
  await page.evaluate(() => { window.cmpAct('1,3,4,8,9', ''); window.sdk.track('t3'); window.sdk.flush(); });
  await page.waitForTimeout(300);
  const { events } = await waitForEvents(recorder, () => true);
  assert.ok(!events.some((e) => kindOf(e) === 'Custom' && e.kind.Custom.name === 't3'), 't3 was not sent');
  await page.context().close();
});
