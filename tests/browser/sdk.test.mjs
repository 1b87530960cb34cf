// The SDK end to end in headless Chromium: real clicks, hovers, scrolls, SPA navigation and
// page hide; every batch decoded by the Rust recorder; exact events and order asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, launch, waitForEvents, kindOf } from './harness.mjs';

let recorder, browser;
before(async () => {
  recorder = await startRecorder();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  recorder?.stop();
});

function assertGapFree(events) {
  const seqs = events.map((e) => Number(e.seq));
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `seq must be 1..n without gaps: ${seqs}`);
  assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'event ids are unique');
  for (const e of events) assert.match(e.event_id, /^[0-9a-f]{32}$/);
}

test('npm import: clicks, hover, scroll milestones, SPA navigation, page hide', async () => {
  await recorder.control('reset=1');
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${recorder.url}/pages/basic.html?utm_source=news&email=x@y.z#top`);
  await page.waitForFunction(() => window.ready === true);

  await page.click('#course-link');
  await page.mouse.move(900, 700);
  await page.hover('#buy');
  await page.waitForTimeout(700);
  await page.mouse.move(900, 700);
  await page.click('#email'); // a click on an input: recorded without its value
  await page.mouse.move(900, 700);
  const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForTimeout(200);
  await page.evaluate(() => history.pushState({}, '', '/pages/spa/step-2?utm_campaign=c1&token=abc'));
  await page.evaluate(() => history.replaceState({}, '', location.href)); // same URL: not a page view
  await page.evaluate(() => window.sdk.track('signup', { plan: 'pro', seats: 3, trial: true, ratio: 0.5 }));
  await page.evaluate(() => window.sdk.search('rust courses', 12));
  const rect = await page.evaluate(() => {
    const r = document.querySelector('#course-link').getBoundingClientRect();
    return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
  });
  // Leaving the page: everything must arrive via sendBeacon at pagehide.
  await page.goto('about:blank');

  const { events, state } = await waitForEvents(recorder, (evs) => evs.some((e) => kindOf(e) === 'Search'));
  await page.close();
  const summary = events.map((e) => {
    const k = kindOf(e);
    const v = e.kind[k];
    if (k === 'Scroll') return `Scroll:${v.milestone_pct}`;
    if (k === 'PageView') return `PageView:${v.navigation}`;
    if (k === 'Custom') return `Custom:${v.name}`;
    return k;
  });
  assert.deepEqual(summary, [
    'PageView:1', 'Click', 'Hover', 'Click',
    'Scroll:25', 'Scroll:50', 'Scroll:75', 'Scroll:100', 'Scroll:0',
    'PageView:2', 'Custom:signup', 'Search',
  ]);
  assertGapFree(events);
  assert.equal(state.undecodable, 0);

  const [load, click, hover, inputClick] = events;
  assert.equal(load.kind.PageView.url, `${recorder.url}/pages/basic.html?utm_source=news`);
  const batch0 = state.batches[0];
  assert.equal(batch0.site_key, 'pk_test');
  assert.equal(batch0.context.url, `${recorder.url}/pages/basic.html?utm_source=news`);
  assert.equal(batch0.context.viewport_width, 1000);
  assert.equal(batch0.context.viewport_height, 800);
  assert.match(batch0.identity.anonymous_id, /^[0-9a-f]{32}$/);
  assert.ok(Number(batch0.sent_at_ms) > 1.6e12);

  const el = click.kind.Click.element;
  assert.equal(el.tag, 'a');
  assert.equal(el.id, 'course-link');
  assert.equal(el.selector, 'a#course-link', 'an id ends the path: ids are unique');
  assert.equal(el.href, `${recorder.url}/pages/course/42`);
  assert.deepEqual(el.data, { track: 'course' });
  assert.equal(el.text, '', 'element text is off by default');
  assert.deepEqual(el.rect, { x: Math.round(rect.x), y: Math.round(rect.y), width: Math.round(rect.width), height: Math.round(rect.height) });
  const p = click.kind.Click.page;
  assert.ok(p.x >= el.rect.x && p.x <= el.rect.x + el.rect.width && p.y >= el.rect.y && p.y <= el.rect.y + el.rect.height, 'click inside the element');

  assert.equal(hover.kind.Hover.element.id, 'buy');
  assert.ok(hover.kind.Hover.dwell_ms >= 500 && hover.kind.Hover.dwell_ms < 5000, `dwell ${hover.kind.Hover.dwell_ms}`);
  assert.equal(inputClick.kind.Click.element.tag, 'input');
  assert.ok(!JSON.stringify(state.batches).includes('student@example.com'), 'no input values leave the page');

  const final = events.find((e) => kindOf(e) === 'Scroll' && e.kind.Scroll.milestone_pct === 0).kind.Scroll;
  assert.equal(final.max_depth_pct, 100);
  assert.equal(final.page_height, pageHeight);

  const push = events.find((e) => e.kind.PageView?.navigation === 2);
  assert.equal(push.kind.PageView.url, `${recorder.url}/pages/spa/step-2?utm_campaign=c1`);
  assert.equal(push.kind.PageView.referrer, `${recorder.url}/pages/basic.html`);
  assert.notEqual(push.page_view_id, load.page_view_id);
  assert.equal(push.batch.context.url, push.kind.PageView.url, 'a batch context is true for its events');
  const custom = events.find((e) => kindOf(e) === 'Custom').kind.Custom;
  assert.deepEqual(custom.properties.map((p) => [p.key, Object.values(p.value)[0]]).sort(), [
    ['plan', 'pro'], ['ratio', 0.5], ['seats', 3], ['trial', true],
  ]);
  for (const e of events) assert.equal(e.batch.context.url, e.page_view_id === push.page_view_id ? push.kind.PageView.url : load.kind.PageView.url, 'every batch context matches its events');
  const bytes = state.batches.reduce((n, b) => n + b._bytes, 0);
  console.log(`# wire: ${events.length} events in ${state.batches.length} batches, ${bytes} bytes, ${(bytes / events.length).toFixed(1)} bytes/event`);
});

test('script tag: commands queued before the SDK loads are replayed in order', async () => {
  await recorder.control('reset=1');
  const page = await browser.newPage();
  await page.goto(`${recorder.url}/pages/snippet.html`);
  await page.waitForFunction(() => typeof window.sightline === 'function' && !window.sightline.q);
  await page.evaluate(() => window.sightline('track', 'after-load', { n: 3 }));
  await page.evaluate(() => window.sightline('noSuchCommand', 1)); // ignored, never throws
  await page.evaluate(() => window.sightline('track', 7)); // invalid name: ignored, never throws
  await page.evaluate(() => history.pushState({}, '', '/pages/other'));
  await page.evaluate(() => history.back()); // popstate: back to the first URL
  await page.waitForFunction(() => location.pathname === '/pages/snippet.html');
  await page.goto('about:blank');
  const { events, state } = await waitForEvents(recorder, (evs) => evs.length >= 6);
  await page.close();
  assert.deepEqual(events.map((e) => kindOf(e) === 'Custom' ? e.kind.Custom.name : kindOf(e)), [
    'PageView', 'queued-before-load', 'queued-after-identify', 'after-load', 'PageView', 'PageView',
  ]);
  assert.deepEqual(events.filter((e) => kindOf(e) === 'PageView').map((e) => e.kind.PageView.navigation), [1, 2, 3]);
  assert.equal(events[5].kind.PageView.url, `${recorder.url}/pages/snippet.html`);
  assert.equal(events[5].kind.PageView.referrer, `${recorder.url}/pages/other`);
  assertGapFree(events);
  assert.equal(events[1].batch.identity.user_id, '');
  assert.equal(events[2].batch.identity.user_id, 'user-7');
  assert.deepEqual(events[2].batch.identity.traits, { cohort: 'b' });
  assert.ok(state.batches.every((b) => b.site_key === 'pk_snippet'));
});

test('retries 503, 429 and dropped connections; consent pending sends nothing', async () => {
  await recorder.control('reset=1');
  await recorder.control('fail=503&count=1');
  const page = await browser.newPage();
  await page.goto(`${recorder.url}/pages/basic.html?consent=pending`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => { window.sdk.track('one', {}); window.sdk.flush(); });
  await page.waitForTimeout(300);
  let state = await recorder.batches();
  assert.equal(state.batches.length + state.failed, 0, 'consent pending: nothing sent');
  await page.evaluate(() => window.sdk.consent('granted')); // flushes: first attempt gets 503
  let result = await waitForEvents(recorder, (evs) => evs.length >= 2);
  assert.equal(result.state.failed, 1);
  assert.deepEqual(result.events.map((e) => kindOf(e)), ['PageView', 'Custom']);

  await recorder.control('fail=drop&count=1');
  await page.evaluate(() => { window.sdk.track('two', {}); window.sdk.flush(); });
  result = await waitForEvents(recorder, (evs) => evs.length >= 3);
  await recorder.control('fail=429&count=1');
  await page.evaluate(() => { window.sdk.track('three', {}); window.sdk.flush(); });
  result = await waitForEvents(recorder, (evs) => evs.length >= 4);
  await page.close();
  assert.equal(result.state.failed, 3);
  assert.deepEqual(result.events.map((e) => e.kind.Custom?.name ?? kindOf(e)), ['PageView', 'one', 'two', 'three']);
  assertGapFree(result.events);
});

test('optOut persists across page loads; Global Privacy Control is honoured', async () => {
  await recorder.control('reset=1');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${recorder.url}/pages/basic.html`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => { window.sdk.track('before-opt-out', {}); window.sdk.flush(); });
  await waitForEvents(recorder, (evs) => evs.length >= 2);
  await page.evaluate(() => { window.sdk.optOut(); window.sdk.track('after-opt-out', {}); window.sdk.flush(); });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => { window.sdk.track('after-reload', {}); window.sdk.flush(); });
  await page.click('#buy');
  // GPC: a fresh browser context announcing it, with respectDoNotTrack set.
  const gpc = await browser.newContext();
  await gpc.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  const gpcPage = await gpc.newPage();
  await gpcPage.goto(`${recorder.url}/pages/basic.html?dnt=1`);
  await gpcPage.waitForFunction(() => window.ready === true);
  await gpcPage.evaluate(() => { window.sdk.track('with-gpc', {}); window.sdk.flush(); });
  await gpcPage.goto('about:blank');
  await page.goto('about:blank');
  await new Promise((r) => setTimeout(r, 500));
  const { events } = await waitForEvents(recorder, () => false, 300);
  await context.close();
  await gpc.close();
  assert.deepEqual(events.map((e) => e.kind.Custom?.name ?? kindOf(e)), ['PageView', 'before-opt-out']);
});
