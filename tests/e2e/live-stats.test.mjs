// The /live figures (demo-site/server/stats.mjs) from hand-made tail lines: CTR over viewable
// impressions with both phases of an impression counted once, per-kind rates, layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveStats, layoutOf } from '../../demo-site/server/stats.mjs';

const NOW = 1_800_000_000_000;
const ad = { slot_id: 'search-sidebar', placement_id: 'sidebar', campaign_id: 'edu-loan', creative_id: 'x' };

function line(kind, oneof, payload, user = 'stu-asha', url = 'http://localhost:3000/courses/dsa') {
  return { kind, collected: { user_key: user, event_time_ms: NOW - 500, context: { url }, identity: { traits: {} }, experiments: {}, event: { kind: { [oneof]: payload } } } };
}
const impression = (id, phase, viewable) => line('ad_impression', 'AdImpression', { ad, impression_id: id, phase, viewable, page_rect: { x: 900, y: 200, width: 300, height: 250 }, viewport_width: 1280, page_height: 2000 });

test('CTR counts each impression once and only viewable ones in the denominator', () => {
  const stats = new LiveStats(() => NOW);
  stats.add(impression('aa', 1, true));
  stats.add(impression('aa', 2, true)); // same impression, final phase
  stats.add(impression('bb', 2, false)); // seen, never viewable
  stats.add(line('ad_click', 'AdClick', { ad, page: { x: 950, y: 300 }, page_rect: { x: 900, y: 200, width: 300, height: 250 } }));
  const s = stats.snapshot();
  const slot = s.slots.find((x) => x.slot === 'search-sidebar');
  assert.deepEqual({ impressions: slot.impressions, viewable: slot.viewable, clicks: slot.clicks, ctr: slot.ctr }, { impressions: 2, viewable: 1, clicks: 1, ctr: 1 });
  assert.equal(s.totals.ad_impression, 3);
  assert.equal(s.users, 1);
  const layout = s.layouts.find((l) => l.layout === '/courses/:id');
  assert.deepEqual(layout.clicks, [[950, 300, 1]]);
  assert.equal(layout.ads[0].clicks, 1);
});

test('rates are per second and per kind within the window; rejected records are counted apart', () => {
  const stats = new LiveStats(() => NOW);
  stats.add(line('page_view', 'PageView', { url: 'x' }));
  stats.add(line('page_view', 'PageView', { url: 'x' }, 'stu-ravi'));
  const old = line('click', 'Click', { page: { x: 1, y: 1 } });
  old.collected.event_time_ms = NOW - 10 * 60_000; // outside the 60 s window: total only
  stats.add(old);
  stats.add({ kind: 'rejected', rejected: { reason: 'missing_event_id' } });
  const s = stats.snapshot();
  const counted = s.rates.reduce((n, r) => n + Object.values(r.counts).reduce((a, b) => a + b, 0), 0);
  assert.equal(counted, 2);
  assert.equal(s.total, 3);
  assert.equal(s.rejected, 1);
  assert.equal(s.users, 2);
});

test('layouts group course pages and ignore query strings', () => {
  assert.equal(layoutOf('http://localhost:3000/courses/calc-1'), '/courses/:id');
  assert.equal(layoutOf('http://localhost:3000/catalogue/courses/dsa'), '/catalogue/courses/:id');
  assert.equal(layoutOf('http://localhost:3000/search'), '/search');
  assert.equal(layoutOf('not a url'), '/');
});

test('video quartiles: each impression counted once per quartile it reached (issue 20)', () => {
  const stats = new LiveStats(() => NOW);
  const video = (id, event, quartiles, extra = {}) => line('ad_video', 'AdVideo', { ad: { slot_id: 'course-preroll' }, impression_id: id, event, quartiles, ...extra });
  stats.add(video('v1', 1, 1));
  stats.add(video('v1', 2, 3));
  stats.add(video('v1', 6, 3, { viewable: true }));
  stats.add(video('v1', 5, 31, { viewable: true, audible_visible_on_complete: true }));
  stats.add(video('v1', 7, 31, { viewable: true, audible_visible_on_complete: true })); // FINAL
  stats.add(video('v2', 1, 1));
  stats.add(video('v2', 3, 7));
  const [slot] = stats.snapshot().videos;
  assert.deepEqual(slot, { slot: 'course-preroll', funnel: [2, 2, 2, 1, 1], viewable: 1, avoc: 1 });
  assert.equal(stats.snapshot().totals.ad_video, 7);
});

test('invalid traffic (GIVT, SIVT) is counted apart and never reaches CTR or the totals', () => {
  const stats = new LiveStats(() => NOW);
  stats.add(impression('aa', 1, true));
  const valid = line('ad_click', 'AdClick', { ad, page: { x: 950, y: 300 } });
  valid.collected.traffic_class = 1;
  stats.add(valid);
  for (const cls of [2, 3]) {
    const scripted = line('ad_click', 'AdClick', { ad, page: { x: 901, y: 201 } }, 'bot');
    scripted.collected.traffic_class = cls;
    scripted.collected.ivt_reasons = [20, 21];
    stats.add(scripted);
  }
  const s = stats.snapshot();
  assert.equal(s.invalid, 2);
  assert.equal(s.adClicks, 1);
  assert.equal(s.ctr, 1);
  assert.equal(s.users, 1, 'the bot is not a user of the site');
  assert.equal(s.slots.find((x) => x.slot === 'search-sidebar').clicks, 1);
});
