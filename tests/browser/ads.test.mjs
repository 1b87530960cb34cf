// Ad viewability (issue 5) in headless Chromium: exact impressions per slot and phase,
// viewable flags per the MRC rule, positions against the elements' real rectangles, clicks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, launch, waitForEvents, kindOf } from './harness.mjs';

const VIEWABLE = 1, FINAL = 2, DISPLAY_50 = 1, LARGE_30 = 2, VISIBLE = 1, OBSCURED = 2;
let recorder, browser;
before(async () => {
  recorder = await startRecorder();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  recorder?.stop();
});

const impressions = (events) => events.filter((e) => kindOf(e) === 'AdImpression').map((e) => ({ seq: Number(e.seq), ...e.kind.AdImpression }));

async function pageRects(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-ad-slot]')].map((el) => {
    const r = el.getBoundingClientRect();
    return [el.dataset.adSlot, { x: Math.round(r.x + scrollX), y: Math.round(r.y + scrollY), width: Math.round(r.width), height: Math.round(r.height) }];
  })));
}

test('impressions, viewability, positions and clicks', async () => {
  await recorder.control('reset=1');
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${recorder.url}/pages/ads.html`);
  await page.waitForFunction(() => window.ready === true);
  await page.waitForTimeout(2500);
  const rects = await pageRects(page);
  await page.mouse.click(20 + 30, 100 + 40); // inside #top at (30, 40)
  await page.waitForTimeout(50);
  await page.goto('about:blank');

  const { events } = await waitForEvents(recorder, (evs) => impressions(evs).filter((i) => i.phase === FINAL).length >= 6);
  await page.close();
  const imps = impressions(events);
  const bySlot = (slot, phase) => imps.filter((i) => i.ad.slot_id === slot && i.phase === phase);

  // Exactly one VIEWABLE for the ads that met the rule, none for the others; one FINAL each.
  for (const slot of ['top-rect', 'billboard', 'lazy']) assert.equal(bySlot(slot, VIEWABLE).length, 1, `${slot} viewable once`);
  for (const slot of ['covered', 'below-fold', 'brief']) assert.equal(bySlot(slot, VIEWABLE).length, 0, `${slot} never viewable`);
  for (const slot of ['top-rect', 'billboard', 'lazy', 'covered', 'below-fold', 'brief']) assert.equal(bySlot(slot, FINAL).length, 1, `${slot} final once`);
  assert.equal(imps.length, 9);

  const top = bySlot('top-rect', FINAL)[0];
  // The ad decision attributes (issue 22) travel with the slot's other ids.
  assert.deepEqual(top.ad, { slot_id: 'top-rect', creative_id: 'cr-1', campaign_id: 'camp-9', placement_id: 'home-top', width: 300, height: 250,
    decision_id: 'dec-7f3a', decision_policy: 'bandit-ucb', decision_variant: 'arm-2' });
  assert.equal(top.impression_id, bySlot('top-rect', VIEWABLE)[0].impression_id, 'both phases share the impression id');
  assert.ok(top.viewable && top.measurable);
  assert.equal(top.rule, DISPLAY_50);
  assert.equal(top.actual_visibility, VISIBLE);
  assert.equal(top.max_visible_fraction, 1);
  assert.deepEqual(top.page_rect, rects['top-rect']);
  assert.deepEqual(top.viewport_rect, rects['top-rect'], 'not scrolled: viewport = page coordinates');
  assert.deepEqual([top.viewport_width, top.viewport_height], [1000, 800]);
  assert.equal(top.page_height, 4000);
  assert.ok(top.in_view_ms >= 2000 && top.in_view_ms < 6000, `in view ${top.in_view_ms}`);
  assert.ok(top.time_to_viewable_ms >= 1000 && top.time_to_viewable_ms < 1300, `time to viewable ${top.time_to_viewable_ms}`);

  const billboard = bySlot('billboard', FINAL)[0];
  assert.equal(billboard.rule, LARGE_30, '970x250 = 242,500 px² uses the 30 % rule');
  assert.ok(billboard.viewable, 'billboard 36 % in view is viewable under the large-ad rule');
  assert.ok(Math.abs(billboard.max_visible_fraction - 90 / 250) < 0.02, `fraction ${billboard.max_visible_fraction}`);
  assert.deepEqual(billboard.page_rect, rects['billboard']);

  const covered = bySlot('covered', FINAL)[0];
  assert.equal(covered.viewable, false, 'an ad under an opaque overlay is not viewable');
  assert.equal(covered.actual_visibility, OBSCURED);
  assert.equal(covered.max_visible_fraction, 1, 'geometrically fully in the viewport');

  const below = bySlot('below-fold', FINAL)[0];
  assert.equal(below.viewable, false);
  assert.equal(below.max_visible_fraction, 0);
  assert.equal(below.in_view_ms, 0);
  assert.deepEqual(below.page_rect, rects['below-fold']);

  const brief = bySlot('brief', FINAL)[0];
  assert.equal(brief.viewable, false, 'removed after 600 ms: under one second');
  assert.ok(brief.in_view_ms > 300 && brief.in_view_ms < 1000, `brief in view ${brief.in_view_ms}`);
  assert.ok(brief.seq < top.seq, 'a removed slot is finalized when it goes, not at page end');

  const lazy = bySlot('lazy', FINAL)[0];
  assert.ok(lazy.viewable, 'a lazily inserted slot is picked up and measured');
  assert.deepEqual(lazy.page_rect, rects['lazy']);

  const clicks = events.filter((e) => kindOf(e) === 'AdClick').map((e) => e.kind.AdClick);
  assert.equal(clicks.length, 1);
  const [click] = clicks;
  assert.equal(click.ad.slot_id, 'top-rect');
  assert.deepEqual([click.ad.decision_id, click.ad.decision_policy, click.ad.decision_variant], ['dec-7f3a', 'bandit-ucb', 'arm-2'], 'the click carries the decision too');
  assert.equal(click.impression_id, top.impression_id);
  assert.deepEqual(click.in_ad, { x: 30, y: 40 });
  assert.deepEqual(click.page, { x: 50, y: 140 });
  assert.deepEqual(click.page_rect, rects['top-rect']);
  assert.equal(click.href, 'https://ads.example/landing');
  assert.ok(click.since_viewable_ms >= 1000 && click.since_viewable_ms < 4000, `since viewable ${click.since_viewable_ms}`);
  assert.equal(events.filter((e) => kindOf(e) === 'Click').length, 1, 'the ad click is also a normal click');
});

test('invalid-traffic signals: slots CSS hides, clicks dispatched by script', async () => {
  await recorder.control('reset=1');
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${recorder.url}/pages/ads.html?ivt=1`);
  await page.waitForFunction(() => window.ready === true);
  await page.waitForTimeout(1500);
  await page.mouse.click(20 + 30, 100 + 40); // a real click inside #top …
  await page.evaluate(() => document.getElementById('top-link').click()); // … and a scripted one
  await page.goto('about:blank');
  const { events } = await waitForEvents(recorder, (evs) => impressions(evs).filter((i) => i.phase === FINAL).length >= 9
    && evs.filter((e) => kindOf(e) === 'AdClick').length >= 2);
  await page.close();
  const imps = impressions(events);
  const hiddenOf = (slot) => [...new Set(imps.filter((i) => i.ad.slot_id === slot).map((i) => i.slot_hidden))];
  // Recorded when each row is (VIEWABLE, FINAL): the hidden slots in every row, the slot that
  // faded in and the ordinary ones in none.
  assert.deepEqual(hiddenOf('ghost'), [true], 'opacity 0 on an ancestor');
  assert.deepEqual(hiddenOf('cloak'), [true], 'visibility: hidden');
  for (const slot of ['fade', 'top-rect', 'billboard', 'below-fold']) assert.deepEqual(hiddenOf(slot), [false], slot);
  assert.ok(imps.filter((i) => i.ad.slot_id === 'fade' && i.phase === VIEWABLE).length === 1, 'the faded-in slot is viewable');
  const clicks = events.filter((e) => kindOf(e) === 'AdClick').map((e) => e.kind.AdClick);
  assert.deepEqual(clicks.map((c) => c.synthetic), [false, true], 'isTrusted: the mouse click, then the scripted one');
});

test('no viewability time accrues while the tab is hidden', async () => {
  await recorder.control('reset=1');
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${recorder.url}/pages/ads.html?hide=1`); // hidden from 300 ms to 1800 ms
  await page.waitForFunction(() => window.ready === true);
  await page.waitForTimeout(3300);
  await page.goto('about:blank');
  const { events } = await waitForEvents(recorder, (evs) => impressions(evs).filter((i) => i.phase === FINAL).length >= 6);
  await page.close();
  const imps = impressions(events);
  const viewable = imps.find((i) => i.ad.slot_id === 'top-rect' && i.phase === VIEWABLE);
  const final = imps.find((i) => i.ad.slot_id === 'top-rect' && i.phase === FINAL);
  assert.ok(viewable, 'becomes viewable after the tab is visible again');
  // 300 ms before hiding do not count as continuous; viewable 1 s after 1800 ms.
  assert.ok(final.time_to_viewable_ms >= 2600 && final.time_to_viewable_ms < 3200, `time to viewable ${final.time_to_viewable_ms}`);
  assert.ok(final.in_view_ms >= 1500 && final.in_view_ms < 2700, `in view ${final.in_view_ms} must exclude the 1.5 s hidden`);
  assert.ok(final.max_continuous_in_view_ms >= 1200 && final.max_continuous_in_view_ms < 2900, `continuous ${final.max_continuous_in_view_ms}`);
  const brief = imps.find((i) => i.ad.slot_id === 'brief' && i.phase === FINAL);
  assert.ok(brief.in_view_ms < 560, `brief ad: only the 300 ms before hiding count (${brief.in_view_ms})`);
});
