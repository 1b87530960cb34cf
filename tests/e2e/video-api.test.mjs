// Video ads (issue 20), the two ways a publisher gets them measured, through the real path
// (Chromium → collector → Kafka, read back with sightline-tail):
//   1. the public page API `adVideo(slot, state)`, for players the ad-slot scan cannot see (an
//      iframe or custom player): a test page drives a simulated 4 s player through it;
//   2. the demo site's own video slots (site/video-ads.js), marked up as a publisher does: the
//      pre-roll before a course preview (started by the visitor's click, so audible) and the
//      muted in-feed ad in the search results (autoplays while in view).
// Each scenario has its own user id and is checked against its exact expected outcome.
// Run by tests/e2e/run.sh (collector with the example config, real broker, the demo site with
// the video files of scripts/demo-videos.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { readAll } from './lib/kafka.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SITE = required('E2E_SITE_URL');
const COLLECTOR = required('E2E_COLLECTOR_URL');
const BROKERS = required('SIGHTLINE_KAFKA');
const TAIL = required('SIGHTLINE_TAIL');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/e2e/run.sh`);
  return value;
}

// sightline.v1 enum values (the tail prints enums as numbers).
const EV = { START: 1, Q1: 2, MID: 3, Q3: 4, COMPLETE: 5, VIEWABLE: 6, FINAL: 7 };
const ALL_QUARTILES = 0b11111; // bits: start, 25, 50, 75, complete
const RULE_VIDEO_50 = 3;
const SIZE = { MEDIUM: 2, LARGE: 3 };
const SOURCE = { ELEMENT: 1, PAGE_API: 2 };
const API_SECONDS = 4;

// A player the SDK cannot see into (a `<div>` standing for an iframe player), 640×360 at the
// top of a long page, reported through `adVideo` every 100 ms of its simulated playback.
// `?s=full`: in view and unmuted throughout. `?s=out`: muted, scrolled out of view at 1 s of
// playback and never back (only 1 s of the 2 the MRC rule needs).
const API_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>adVideo</title>
<style>body{margin:0;height:5000px} #player{position:absolute;left:0;top:20px;width:640px;height:360px;background:#123}</style></head><body>
<div id="player" data-ad-format="video" data-ad-slot="SLOT" data-ad-creative="cr-api" data-ad-campaign="camp-api" data-ad-placement="api_player"></div>
<script type="module">
import init, * as sdk from '/pkg/sightline_sdk.js';
const q = new URLSearchParams(location.search), s = q.get('s'), slot = document.getElementById('player');
slot.dataset.adSlot = 'api-' + s;
await init();
sdk.init({ collector: q.get('c'), siteKey: 'demo', batch: { flushIntervalMs: 500 } });
sdk.identify(q.get('u'));
const muted = s == 'out', duration = ${API_SECONDS};
let t = 0, last = performance.now(), scrolled = false;
const report = (state) => sdk.adVideo(slot, { state, currentTime: t, duration, muted, volume: 1 });
report('playing');
const timer = setInterval(() => {
  const now = performance.now();
  t = Math.min(duration, t + (now - last) / 1000);
  last = now;
  if (s == 'out' && t >= 1 && !scrolled) { scrolled = true; scrollTo(0, 3000); }
  if (t < duration) return report('playing');
  clearInterval(timer);
  report('ended');
  window.ended = true;
}, 100);
</script></body></html>`;

let server, browser, base;

before(async () => {
  const pkg = path.join(root, 'sdk-wasm/pkg');
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname == '/api.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(API_PAGE);
    const file = url.pathname.startsWith('/pkg/') ? path.join(pkg, path.basename(url.pathname)) : null;
    if (!file || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://localhost:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Every AdVideo record of the users `users` (deduplicated by event id), by user, in seq order. */
async function videosOf(users, done, timeoutMs) {
  let byUser = new Map();
  for (const deadline = Date.now() + timeoutMs; ;) {
    const seen = new Set();
    byUser = new Map(users.map((u) => [u, []]));
    for (const r of await readAll({ tail: TAIL, brokers: BROKERS })) {
      const ev = r.collected?.event, v = ev?.kind?.AdVideo;
      if (!v || !byUser.has(r.key) || seen.has(ev.event_id)) continue;
      seen.add(ev.event_id);
      byUser.get(r.key).push({ ...v, seq: Number(ev.seq) });
    }
    for (const list of byUser.values()) list.sort((a, b) => a.seq - b.seq);
    if (users.every((u) => done(byUser.get(u))) || Date.now() > deadline) return byUser;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const hasFinal = (list) => list.some((v) => v.event === EV.FINAL);
const eventsOf = (list) => list.map((v) => v.event).filter((e) => e !== EV.FINAL).sort();
const sorted = (...events) => [...events].sort();

test('adVideo page API: quartiles and the viewability outcome through the collector and Kafka', { timeout: 90_000 }, async () => {
  const run = Date.now().toString(36);
  const user = (s) => `video-api-${run}-${s}`;
  const contexts = [];
  await Promise.all(['full', 'out'].map(async (s) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/api.html?s=${s}&u=${user(s)}&c=${encodeURIComponent(COLLECTOR)}`);
    await page.waitForFunction(() => /** @type {any} */ (window).ended === true, null, { timeout: 30_000 });
    // Leaving the page ends the impression: FINAL with the totals.
    await page.goto('about:blank');
  }));
  const videos = await videosOf([user('full'), user('out')], hasFinal, 45_000);
  await Promise.all(contexts.map((c) => c.close()));

  // In view and unmuted from start to end: every quartile, audible at each, viewable, AVOC.
  const full = videos.get(user('full'));
  assert.ok(hasFinal(full), 'full: FINAL in Kafka');
  assert.deepEqual(eventsOf(full), sorted(EV.START, EV.Q1, EV.MID, EV.Q3, EV.COMPLETE, EV.VIEWABLE), 'full: every event once');
  const fullFinal = full.find((v) => v.event === EV.FINAL);
  assert.equal(fullFinal.source, SOURCE.PAGE_API);
  assert.equal(fullFinal.ad.slot_id, 'api-full');
  assert.equal(fullFinal.ad.placement_id, 'api_player');
  assert.equal(fullFinal.quartiles, ALL_QUARTILES);
  assert.equal(fullFinal.audible_quartiles, ALL_QUARTILES);
  assert.equal(fullFinal.viewable, true);
  assert.equal(fullFinal.audible_visible_on_complete, true);
  assert.equal(fullFinal.rule, RULE_VIDEO_50, '640×360 = 230,400 px²: the 50 % rule');
  assert.equal(fullFinal.player_size, SIZE.LARGE);
  assert.equal(fullFinal.measurable, true);
  assert.equal(fullFinal.duration_ms, API_SECONDS * 1000);
  assert.ok(fullFinal.played_ms >= API_SECONDS * 950 && fullFinal.played_ms <= API_SECONDS * 1000, `full: played ${fullFinal.played_ms}`);
  const viewable = full.find((v) => v.event === EV.VIEWABLE);
  assert.ok(viewable.time_to_viewable_ms >= 2000 && viewable.time_to_viewable_ms <= 2600, `full: viewable after ${viewable.time_to_viewable_ms} ms`);
  assert.ok(full.every((v) => v.impression_id === fullFinal.impression_id), 'full: one impression id');

  // Muted, out of view after 1 s: every quartile, none audible, never viewable, no AVOC.
  const out = videos.get(user('out'));
  assert.ok(hasFinal(out), 'out: FINAL in Kafka');
  assert.deepEqual(eventsOf(out), sorted(EV.START, EV.Q1, EV.MID, EV.Q3, EV.COMPLETE), 'out: no VIEWABLE');
  const outFinal = out.find((v) => v.event === EV.FINAL);
  assert.equal(outFinal.quartiles, ALL_QUARTILES);
  assert.equal(outFinal.audible_quartiles ?? 0, 0);
  assert.ok(!outFinal.viewable, 'out: not viewable');
  assert.ok(!outFinal.audible_visible_on_complete, 'out: no AVOC');
  assert.ok(!outFinal.time_to_viewable_ms, 'out: no time to viewable');
  assert.ok(outFinal.max_continuous_in_view_playing_ms < 2000, `out: longest run ${outFinal.max_continuous_in_view_playing_ms} ms`);
  assert.ok(out.every((v) => !v.audible), 'out: muted throughout');
});

test('demo site: the course pre-roll and the in-feed video ad, measured from their markup', { timeout: 120_000 }, async () => {
  const run = Date.now().toString(36);
  const user = (s) => `video-demo-${run}-${s}`;
  const contexts = [];
  const course = 'calc-1';
  await Promise.all(['preroll', 'infeed'].map(async (s) => {
    // 600 px high: the in-feed player starts below the fold, so it plays only once scrolled to
    // (after `identify`, which keys its events to this scenario).
    const context = await browser.newContext({ viewport: { width: 1280, height: 600 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(s == 'preroll' ? `${SITE}/courses/${course}` : `${SITE}/`);
    // The script-tag page's command queue, as the site's own code uses it.
    await page.evaluate((id) => /** @type {any} */ (window).sightline('identify', id), user(s));
    if (s == 'preroll') {
      await page.locator('#preroll-video').scrollIntoViewIfNeeded();
      await page.click('#preview-button');
      // The ad ends, its slot goes and the course preview plays.
      await page.waitForFunction(() => !document.querySelector('#preroll-video')
        && !(/** @type {HTMLVideoElement} */ (document.querySelector('#course-preview-video'))).paused, null, { timeout: 30_000 });
    } else {
      await page.locator('#in-feed-video').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => (/** @type {HTMLVideoElement} */ (document.querySelector('#in-feed-video'))).ended, null, { timeout: 30_000 });
    }
    await page.goto('about:blank');
  }));
  const videos = await videosOf([user('preroll'), user('infeed')], hasFinal, 45_000);
  await Promise.all(contexts.map((c) => c.close()));

  // Pre-roll: played to the end in view, with sound (started by the click): all, AVOC.
  const preroll = videos.get(user('preroll'));
  assert.ok(hasFinal(preroll), 'pre-roll: FINAL in Kafka (the slot was removed)');
  assert.deepEqual(eventsOf(preroll), sorted(EV.START, EV.Q1, EV.MID, EV.Q3, EV.COMPLETE, EV.VIEWABLE));
  const p = preroll.find((v) => v.event === EV.FINAL);
  assert.equal(p.ad.slot_id, `course-${course}-preroll`);
  assert.equal(p.ad.placement_id, 'preroll');
  assert.equal(p.source, SOURCE.ELEMENT);
  assert.equal(p.quartiles, ALL_QUARTILES);
  assert.equal(p.audible_quartiles, ALL_QUARTILES);
  assert.equal(p.viewable, true);
  assert.equal(p.audible_visible_on_complete, true);

  // In-feed: muted autoplay while in view: all quartiles, viewable, never audible, no AVOC.
  const infeed = videos.get(user('infeed'));
  assert.ok(hasFinal(infeed), 'in-feed: FINAL in Kafka (page hide)');
  assert.deepEqual(eventsOf(infeed), sorted(EV.START, EV.Q1, EV.MID, EV.Q3, EV.COMPLETE, EV.VIEWABLE));
  const f = infeed.find((v) => v.event === EV.FINAL);
  assert.equal(f.ad.slot_id, 'search-in-feed-video');
  assert.equal(f.ad.placement_id, 'in_feed_video');
  assert.equal(f.quartiles, ALL_QUARTILES);
  assert.equal(f.audible_quartiles ?? 0, 0);
  assert.equal(f.viewable, true);
  assert.ok(!f.audible_visible_on_complete, 'in-feed: muted, no AVOC');
  for (const v of [p, f]) assert.ok([SIZE.MEDIUM, SIZE.LARGE].includes(v.player_size), `player size ${v.player_size}`);
});
