// Invalid-traffic classification through the real path: demo site → SDK → collector → Kafka.
// The issue's four browser sessions, each in its own browser whose user agent names it:
// a default headless browser (navigator.webdriver true) → GIVT automation; a crawler agent →
// GIVT crawler; a scripted clicker (ad clicks from 50 ms after load, 20 clicks/s, no
// impression, dispatched by a script in the page, so not isTrusted) → its clicks SIVT with the reasons below; a human-like visit with automation
// hidden → VALID. Run by tests/e2e/run.sh (collector with the example config, real broker).
//
// Each browser is launched with `--user-agent`, not a per-context override: Playwright's
// context `userAgent` is applied to the page (CDP Emulation.setUserAgentOverride), and the
// page-hide beacon, which leaves after the page is gone, carries the browser's own agent —
// in headless Chromium `HeadlessChrome/…`, which the collector rightly calls a crawler. The
// launch flag gives every request of a session, beacons included, the same agent, as a real
// browser does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { readAll } from './lib/kafka.mjs';

const SITE = required('E2E_SITE_URL');
const BROKERS = required('SIGHTLINE_KAFKA');
const TAIL = required('SIGHTLINE_TAIL');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/e2e/run.sh`);
  return value;
}

// sightline.v1 TrafficClass and IvtReason values (the tail prints enums as numbers).
const CLASS = { VALID: 1, GIVT: 2, SIVT: 3 };
const REASON = {
  CRAWLER: 1, AUTOMATION: 2,
  CLICK_WITHOUT_IMPRESSION: 20, CLICK_TOO_FAST: 21, CLICK_BURST: 22, REPEATED_CLICK_POSITION: 24,
  SYNTHETIC_CLICK: 25,
};
// The example config's thresholds (collector/sightline.example.toml [ivt]).
const CLICK_BURST_MAX = 5;
const REPEATED_CLICK_POSITION_MAX = 2;
// The scripted clicker: a script in the page (as click-fraud scripts are) that clicks the
// same pixel of whichever ad is in view, first 50 ms after the SDK started, then 20 clicks/s
// (each click opens the advertised course, whose page has its own banner in the same place).
// Its timers run in the page, not over the test's CDP connection, so a loaded machine
// does not stretch its pace.
const CLICKER_CLICKS = 20;
const CLICKER_SCRIPT = `(() => {
  if (location.protocol === 'about:') return;
  const DELAY_MS = 50, INTERVAL_MS = 1000 / 20, CLICKS = ${CLICKER_CLICKS}, AT = { x: 10, y: 10 };
  const click = () => {
    for (const el of document.querySelectorAll('[data-ad-slot]')) {
      const r = el.getBoundingClientRect();
      if (r.width > 10 && r.height > 10 && r.top >= 0 && r.bottom <= innerHeight) {
        const x = Math.round(r.left) + AT.x, y = Math.round(r.top) + AT.y;
        el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window, clientX: x, clientY: y }));
        return true;
      }
    }
    return false;
  };
  // The SDK replaced the snippet's queueing stub (sdk-wasm/js/sightline.js) and ran the
  // queued init: from then on it sees clicks (before, no page-side measurement can).
  const running = () => typeof window.sightline === 'function' && !('q' in window.sightline);
  const wait = setInterval(() => {
    if (!running()) return;
    clearInterval(wait);
    setTimeout(() => {
      let n = 0;
      const tick = setInterval(() => {
        if (click()) n += 1;
        if (n >= CLICKS) { clearInterval(tick); window.__clickerDone = n; }
      }, INTERVAL_MS);
      if (click()) n += 1;
    }, DELAY_MS);
  }, 5);
})();`;
const DELIVERY_TIMEOUT_MS = 60000;

const BASE_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const HIDE_AUTOMATION = '--disable-blink-features=AutomationControlled';
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** The first ad slot inside the viewport: its rectangle in viewport coordinates. */
async function visibleAd(page) {
  await page.waitForSelector('[data-ad-slot]');
  return page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-ad-slot]')) {
      const r = el.getBoundingClientRect();
      if (r.width > 10 && r.height > 10 && r.top >= 0 && r.bottom <= innerHeight) {
        return { slot: el.getAttribute('data-ad-slot'), left: r.left, top: r.top, width: r.width, height: r.height };
      }
    }
    return null;
  });
}

/** One session in its own browser with `userAgent` for every request; leaves the page at
 * the end (page hide sends the last batch). The browser stays open until the records are in
 * Kafka (closing it could cancel the beacon before the collector answered). */
async function session(userAgent, args, flow) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...args, `--user-agent=${userAgent}`] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await flow(page);
  await page.goto('about:blank');
  return browser;
}

async function browse(page) {
  await page.goto(`${SITE}/?variant=A`);
  await page.waitForSelector('#view main');
  await page.waitForTimeout(1500);
}

async function scriptedClicker(page) {
  // One document runs the script: every click is an SPA navigation.
  await page.addInitScript(CLICKER_SCRIPT);
  await page.goto(`${SITE}/?variant=A`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__clickerDone, null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__clickerDone), CLICKER_CLICKS, 'the script clicked 20 times');
}

async function humanLike(page) {
  await browse(page);
  const ad = await visibleAd(page);
  assert.ok(ad, 'an ad slot is in view');
  // A person looks at the ad for a while (it becomes viewable, its impression is sent)
  // before moving to it and clicking.
  await page.waitForTimeout(2500);
  const x = ad.left + ad.width / 2;
  const y = ad.top + ad.height / 2;
  await page.mouse.move(x - 40, y - 20, { steps: 8 });
  await page.waitForTimeout(900);
  await page.mouse.click(x - 7, y + 3);
  await page.waitForTimeout(1500);
}

const reasons = (r) => (r.collected.ivt_reasons ?? []).map(Number);
const adClick = (r) => r.collected.event.kind.AdClick;
// Every page has ad slots, so every session's page hide (its last batch) carries FINAL
// impressions: their presence says the session's records are all in Kafka.
const hasFinal = (rs) => rs.some((r) => r.kind === 'ad_impression' && r.collected.event.kind.AdImpression.phase === 2);
const unique = (rs) => [...new Map(rs.map((r) => [r.collected.event.event_id, r])).values()];

test('headless, crawler, scripted clicker and human-like sessions are classified', { timeout: 200000 }, async (t) => {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const agents = {
    headless: `${DESKTOP} SightlineIvt/${run}/headless`,
    crawler: `${GOOGLEBOT} SightlineIvt/${run}/crawler`,
    clicker: `${DESKTOP} SightlineIvt/${run}/clicker`,
    human: `${DESKTOP} SightlineIvt/${run}/human`,
  };
  const browsers = [];
  try {
    browsers.push(await session(agents.headless, BASE_ARGS, async (page) => {
      await browse(page);
      assert.equal(await page.evaluate(() => navigator.webdriver), true, 'default headless declares automation');
    }));
    browsers.push(await session(agents.crawler, [...BASE_ARGS, HIDE_AUTOMATION], browse));
    browsers.push(await session(agents.clicker, [...BASE_ARGS, HIDE_AUTOMATION], scriptedClicker));
    browsers.push(await session(agents.human, [...BASE_ARGS, HIDE_AUTOMATION], humanLike));

    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    let mine;
    for (;;) {
      const records = (await readAll({ tail: TAIL, brokers: BROKERS })).filter((r) => r.collected?.user_agent?.includes(`SightlineIvt/${run}/`));
      mine = Object.fromEntries(Object.entries(agents).map(([name, ua]) => [name, unique(records.filter((r) => r.collected.user_agent === ua))]));
      const complete = Object.values(mine).every(hasFinal)
        && mine.human.some((r) => r.kind === 'ad_click')
        && mine.clicker.filter((r) => r.kind === 'ad_click').length >= CLICKER_CLICKS;
      if (complete || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    t.diagnostic(`run ${run}: ${Object.entries(mine).map(([name, rs]) => `${name} ${rs.length}`).join(', ')} records`);
    for (const [name, rs] of Object.entries(mine)) assert.ok(hasFinal(rs), `${name}: every record, the page-hide batch included, reached Kafka`);

    for (const r of mine.headless) {
      assert.equal(r.collected.traffic_class, CLASS.GIVT, `headless ${r.kind}`);
      assert.deepEqual(reasons(r), [REASON.AUTOMATION], `headless ${r.kind}`);
    }
    for (const r of mine.crawler) {
      assert.equal(r.collected.traffic_class, CLASS.GIVT, `crawler ${r.kind}`);
      assert.deepEqual(reasons(r), [REASON.CRAWLER], `crawler ${r.kind}`);
    }

    // The clicker: every click in the order the collector judged them (one page session,
    // so event order; its requests go one at a time). No ad was in view for 1 s, so no
    // impression preceded any click, and each came 50 ms after its page view began; from the
    // third on the position repeats, from the sixth on the burst limit is passed.
    const clicks = mine.clicker.filter((r) => r.kind === 'ad_click')
      .sort((a, b) => Number(a.collected.event.seq) - Number(b.collected.event.seq));
    assert.equal(clicks.length, CLICKER_CLICKS, 'every scripted click reached Kafka');
    clicks.forEach((r, i) => {
      assert.deepEqual(adClick(r).in_ad, adClick(clicks[0]).in_ad, `click ${i + 1}: the same in-ad pixel`);
      const expected = [REASON.CLICK_WITHOUT_IMPRESSION, REASON.CLICK_TOO_FAST];
      if (i >= CLICK_BURST_MAX) expected.push(REASON.CLICK_BURST);
      if (i >= REPEATED_CLICK_POSITION_MAX) expected.push(REASON.REPEATED_CLICK_POSITION);
      expected.push(REASON.SYNTHETIC_CLICK); // dispatchEvent: MouseEvent.isTrusted is false
      assert.equal(r.collected.traffic_class, CLASS.SIVT, `click ${i + 1}`);
      assert.deepEqual(reasons(r), expected, `click ${i + 1} (slot ${adClick(r).ad.slot_id})`);
    });
    // The rules judge clicks; the clicker's page views and impressions are what a browser
    // really showed, and stay VALID (flagged per event, never per visitor by guesswork).
    for (const r of mine.clicker.filter((x) => x.kind !== 'ad_click')) {
      assert.equal(r.collected.traffic_class, CLASS.VALID, `clicker ${r.kind}: ${reasons(r)}`);
    }

    assert.ok(mine.human.some((r) => r.kind === 'ad_click'), 'the human-like click reached Kafka');
    for (const r of mine.human) {
      assert.equal(r.collected.traffic_class, CLASS.VALID, `human ${r.kind}: ${reasons(r)}`);
      assert.deepEqual(reasons(r), [], `human ${r.kind}`);
    }
  } finally {
    for (const b of browsers) await b.close();
  }
});
