// Video ads (issue 20) through the real path: a page with a video ad slot → the SDK and its
// optional module sightline-video.js in Chromium → collector → Kafka, read back with
// sightline-tail. The test video (6 s test pattern with a silent audio track) is made by
// Debian's ffmpeg at test time; Chromium's autoplay policy is lifted by its flag. The seven
// MRC video scenarios run in parallel pages (about 15 s of real playback in all), each with
// its own user id, and each is checked against its exact expected outcome.
// Run by tests/e2e/run.sh (collector with the example config, real broker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { readAll } from './lib/kafka.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COLLECTOR = required('E2E_COLLECTOR_URL');
const BROKERS = required('SIGHTLINE_KAFKA');
const TAIL = required('SIGHTLINE_TAIL');
const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(root, 'tests/artifacts');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/e2e/run.sh`);
  return value;
}

// sightline.v1.VideoEvent / ViewabilityRule / PlayerSize values (the tail prints enums as numbers).
const EV = { START: 1, Q1: 2, MID: 3, Q3: 4, COMPLETE: 5, VIEWABLE: 6, FINAL: 7 };
const RULE = { VIDEO_50: 3, VIDEO_LARGE_30: 4 };
const SIZE = { MEDIUM: 2, LARGE: 3 };
const VIDEO_SECONDS = 6;

// The page: one video ad slot, driven by `?s=SCENARIO` (the timing lives in the page, keyed
// to the video's own clock, so it does not depend on how fast the test process polls).
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>video ad</title>
<style>body{margin:0;height:4000px} #slot{position:absolute;left:0;top:20px}</style></head><body>
<div id="slot" data-ad-slot="SLOT" data-ad-creative="cr-video" data-ad-campaign="camp-video" data-ad-placement="PLACEMENT" data-ad-format="video">
<video id="v" src="/ad.webm" playsinline width="640" height="360" preload="auto"></video></div>
<script type="module">
import init, * as sdk from '/pkg/sightline_sdk.js';
const q = new URLSearchParams(location.search), s = q.get('s'), v = document.getElementById('v');
const slot = document.getElementById('slot');
slot.dataset.adSlot = 'video-' + s;
if (s == 'large') {
  // 970×546 = 529,620 px² (≥ 242,500: the 30 % rule); 35 % of its height inside the viewport.
  v.width = 970; v.height = 546;
  slot.style.top = (innerHeight - Math.round(546 * 0.35)) + 'px';
}
if (s == 'muted') v.muted = true;
await init();
sdk.init({ collector: q.get('c'), siteKey: 'demo', batch: { flushIntervalMs: 500 } });
sdk.identify(q.get('u'));
// The ad starts once its measurement module is there, as a pre-roll waits for its ad: the SDK
// fetches sightline-video.js when its ad-slot scan finds the video slot.
const loaded = () => performance.getEntriesByType('resource').some((e) => e.name.includes('sightline-video.js'));
while (!loaded()) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 100));
v.play();
window.marks = {};
const mark = (name) => { window.marks[name] = v.currentTime; };
const at = (t, f) => { const h = () => { if (v.currentTime >= t) { v.removeEventListener('timeupdate', h); f(); } }; v.addEventListener('timeupdate', h); };
const setHidden = (hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
};
if (s == 'scroll') {
  at(1.5, () => { scrollTo(0, 2000); mark('out'); setTimeout(() => { scrollTo(0, 0); mark('back'); }, 1000); });
}
if (s == 'pause') at(1, () => { v.pause(); mark('paused'); setTimeout(() => { mark('resumed'); v.play(); }, 5000); });
if (s == 'hidden') at(1, () => { setHidden(true); mark('hidden'); setTimeout(() => { setHidden(false); mark('shown'); }, 2000); });
if (s == 'seek') at(0.5, () => { mark('seek'); v.currentTime = v.duration - 0.05; });
v.addEventListener('ended', () => { mark('ended'); window.ended = true; });
</script></body></html>`;

let server, browser, base, video;

before(async () => {
  mkdirSync(path.join(ARTIFACTS, 'video'), { recursive: true });
  video = path.join(ARTIFACTS, 'video', 'ad.webm');
  if (!existsSync(video)) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=320x180:rate=15:duration=${VIDEO_SECONDS}`,
      '-f', 'lavfi', '-i', `anullsrc=r=48000:cl=mono`, '-t', String(VIDEO_SECONDS), '-c:v', 'libvpx', '-b:v', '200k',
      '-c:a', 'libopus', '-shortest', video]);
  }
  const pkg = path.join(root, 'sdk-wasm/pkg');
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.webm': 'video/webm', '.html': 'text/html' };
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = null;
    if (url.pathname == '/video.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url.pathname == '/ad.webm') file = video;
    else if (url.pathname.startsWith('/pkg/')) file = path.join(pkg, path.basename(url.pathname));
    if (!file || !existsSync(file)) return res.writeHead(404).end();
    const body = readFileSync(file);
    // Range support: Chromium seeks media with range requests.
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range || '');
    if (range) {
      const start = +range[1], end = range[2] ? +range[2] : body.length - 1;
      res.writeHead(206, { 'content-type': types[path.extname(file)], 'content-range': `bytes ${start}-${end}/${body.length}`, 'accept-ranges': 'bytes' });
      return res.end(body.subarray(start, end + 1));
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'accept-ranges': 'bytes' }).end(body);
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

const SCENARIOS = ['full', 'scroll', 'pause', 'muted', 'hidden', 'large', 'seek'];

test('MRC video scenarios through the collector and Kafka', { timeout: 90_000 }, async () => {
  const run = Date.now().toString(36);
  const user = (s) => `video-${run}-${s}`;
  const marks = {}, contexts = [];
  await Promise.all(SCENARIOS.map(async (s) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/video.html?s=${s}&u=${user(s)}&c=${encodeURIComponent(COLLECTOR)}`);
    // The facts each scenario waits for: the video ended (played or seeked to the end).
    await page.waitForFunction(() => /** @type {any} */ (window).ended === true, null, { timeout: 40_000 });
    marks[s] = await page.evaluate(() => /** @type {any} */ (window).marks);
    // Leaving the page: pagehide → FINAL messages, sent with the last batch (a beacon: the
    // context stays open until Kafka has them, so the browser is not torn down under it).
    await page.goto('about:blank');
  }));

  // Wait for every scenario's FINAL in Kafka (at-least-once: deduplicate by event id).
  /** @type {Record<string, any[]>} */
  let videos = {};
  for (const deadline = Date.now() + 45_000; ;) {
    const records = await readAll({ tail: TAIL, brokers: BROKERS });
    videos = {};
    const seen = new Set();
    for (const r of records) {
      const ev = r.collected?.event;
      const v = ev?.kind?.AdVideo;
      if (!v || !r.key?.startsWith(`video-${run}-`) || seen.has(ev.event_id)) continue;
      seen.add(ev.event_id);
      (videos[r.key.slice(`video-${run}-`.length)] ??= []).push({ ...v, seq: Number(ev.seq), topic: r.topic });
    }
    if (SCENARIOS.every((s) => videos[s]?.some((v) => v.event === (s == 'hidden' ? EV.COMPLETE : EV.FINAL))) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await Promise.all(contexts.map((c) => c.close()));
  // The hidden scenario fakes document.hidden (as tests/browser/ads.html does); its page-hide
  // beacon does not always leave before the page goes, so it is judged on COMPLETE's totals.
  for (const s of SCENARIOS.filter((s) => s != 'hidden')) assert.ok(videos[s]?.some((v) => v.event === EV.FINAL), `${s}: FINAL in Kafka`);
  const of = (s) => {
    const list = videos[s].sort((a, b) => a.seq - b.seq);
    const final = list.find((v) => v.event === EV.FINAL);
    const events = list.map((v) => v.event).filter((e) => e != EV.FINAL);
    return { list, final, events, viewable: list.find((v) => v.event === EV.VIEWABLE) };
  };

  // Played fully in view, unmuted: every quartile, viewable, AVOC.
  const full = of('full');
  assert.deepEqual([...full.events].sort(), [EV.START, EV.Q1, EV.MID, EV.Q3, EV.COMPLETE, EV.VIEWABLE].sort(), 'full: every event once');
  assert.equal(full.final.quartiles, 31);
  assert.equal(full.final.audible_quartiles, 31);
  assert.equal(full.final.viewable, true);
  assert.equal(full.final.audible_visible_on_complete, true);
  assert.equal(full.final.rule, RULE.VIDEO_50);
  assert.equal(full.final.player_size, SIZE.LARGE, '640 px wide: large by the IAB/MRC buckets');
  // played_ms advances at each timeupdate (every 15–250 ms) while the rule's 2 s are timed on
  // the clock: at VIEWABLE it trails by up to one update (and the first one after start).
  assert.ok(full.viewable.played_ms >= 1500 && full.viewable.played_ms <= 2600, `full: viewable at ${full.viewable.played_ms} ms played`);
  assert.ok(full.final.played_ms >= VIDEO_SECONDS * 950, `full: played ${full.final.played_ms}`);
  assert.equal(full.list[0].impression_id, full.final.impression_id);
  assert.ok(full.list.every((v) => v.impression_id === full.final.impression_id), 'one impression id');
  assert.ok(full.list.every((v) => v.topic === full.list[0].topic));

  // Scrolled out at 1.5 s, back 1 s later: viewable only after 2 more continuous seconds.
  const scroll = of('scroll');
  const back = marks.scroll.back * 1000;
  assert.ok(scroll.viewable, 'scroll: viewable in the end');
  assert.ok(scroll.viewable.played_ms >= back + 1500, `scroll: viewable at ${scroll.viewable.played_ms} ms played, back in view at ${back}`);
  assert.ok(scroll.viewable.played_ms <= back + 2600, `scroll: viewable at ${scroll.viewable.played_ms}, back at ${back}`);
  assert.ok(scroll.final.max_continuous_in_view_playing_ms < VIDEO_SECONDS * 1000 - 1500, 'scroll: the run was broken');

  // Paused at 1 s in view for 5 s: no viewable time while paused; viewable after 2 s more play.
  const pause = of('pause');
  assert.ok(pause.viewable.played_ms >= 2500 && pause.viewable.played_ms <= 3600, `pause: viewable at ${pause.viewable.played_ms} ms played`);
  assert.ok(pause.viewable.in_view_ms >= 7500, `pause: total in view ${pause.viewable.in_view_ms} includes the pause`);
  assert.ok(pause.viewable.in_view_playing_ms <= 3600, `pause: in view while playing ${pause.viewable.in_view_playing_ms}`);
  assert.equal(pause.final.pauses, 1);
  assert.equal(pause.final.resumes, 1);

  // Muted throughout: viewable, not audible.
  const muted = of('muted');
  assert.equal(muted.final.viewable, true);
  assert.ok(muted.events.includes(EV.COMPLETE));
  assert.equal(muted.final.audible_quartiles ?? 0, 0);
  assert.ok(!muted.final.audible_visible_on_complete);
  assert.ok(muted.list.every((v) => !v.audible));

  // Tab hidden for 2 s mid-play: time stops.
  const hidden = of('hidden');
  hidden.final = hidden.list.find((v) => v.event === EV.COMPLETE);
  assert.ok(hidden.final, 'hidden: COMPLETE in Kafka');
  const playing = hidden.final.in_view_playing_ms;
  assert.ok(playing >= VIDEO_SECONDS * 1000 - 2600 && playing <= VIDEO_SECONDS * 1000 - 1500, `hidden: in view while playing ${playing} excludes the 2 s hidden`);
  assert.ok(hidden.final.played_ms >= VIDEO_SECONDS * 950, 'hidden: the video kept playing');

  // A large player at 35 % in view: viewable by the 30 % rule.
  const large = of('large');
  assert.equal(large.final.rule, RULE.VIDEO_LARGE_30);
  assert.equal(large.final.viewable, true);
  assert.ok(large.final.max_visible_fraction > 0.3 && large.final.max_visible_fraction < 0.4, `large: ${large.final.max_visible_fraction} in view`);

  // Seeking to the end: no false quartiles.
  const seek = of('seek');
  assert.deepEqual(seek.events.filter((e) => e != EV.VIEWABLE), [EV.START], 'seek: start only');
  assert.equal(seek.final.quartiles, 1);
  assert.ok(seek.final.played_ms < 1500, `seek: played ${seek.final.played_ms}`);

  // Video events go to their own topic (per_event layout) or sightline.events (v2, default).
  assert.ok(['sightline.ad_videos', 'sightline.events'].includes(full.list[0].topic), full.list[0].topic);
});
