// Invalid-traffic classification through the real path: demo site → SDK → collector → Kafka.
// Three browsers, each with its own user agent so its records can be told apart: a default
// headless browser (navigator.webdriver true) → GIVT automation; a crawler agent → GIVT
// crawler; a human-like visit with automation hidden → VALID. Run by tests/e2e/run.sh
// (collector with the example config, real broker). The scripted-clicker scenario (SIVT) is
// not here yet: its rules are covered by collector/src/ivt/sivt.rs and the analytics truth test.
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
const REASON = { CRAWLER: 1, AUTOMATION: 2 };
const BASE_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const HIDDEN = [...BASE_ARGS, '--disable-blink-features=AutomationControlled'];
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** The first ad slot inside the viewport, its center in viewport coordinates. */
async function visibleAd(page) {
  await page.waitForSelector('[data-ad-slot]');
  return page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-ad-slot]')) {
      const r = el.getBoundingClientRect();
      if (r.width > 10 && r.height > 10 && r.top >= 0 && r.bottom <= innerHeight) {
        return { slot: el.getAttribute('data-ad-slot'), x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }
    }
    return null;
  });
}

async function visit(browser, userAgent, flow) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent });
  const page = await context.newPage();
  await flow(page);
  // Leaving the document sends the last batch (page hide); the context stays open until the
  // records are in Kafka, as in students.test.mjs.
  await page.goto('about:blank');
  return context;
}

test('default headless, crawler and human-like visits are classified', { timeout: 180000 }, async () => {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const agents = {
    headless: `${DESKTOP} SightlineIvt/${run}/headless`,
    crawler: `${GOOGLEBOT} SightlineIvt/${run}/crawler`,
    human: `${DESKTOP} SightlineIvt/${run}/human`,
  };
  const automated = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BASE_ARGS });
  const hidden = await chromium.launch({ executablePath: '/usr/bin/chromium', args: HIDDEN });
  try {
    const browse = async (page) => {
      await page.goto(`${SITE}/?variant=A`);
      await page.waitForSelector('#view main');
      await page.waitForTimeout(1500);
    };
    await visit(automated, agents.headless, async (page) => {
      await browse(page);
      assert.equal(await page.evaluate(() => navigator.webdriver), true, 'default headless declares automation');
    });
    await visit(hidden, agents.crawler, browse);
    await visit(hidden, agents.human, async (page) => {
      await browse(page);
      const ad = await visibleAd(page);
      assert.ok(ad, 'an ad slot is in view');
      // A person looks at the ad for a while (it becomes viewable, its impression is sent)
      // before moving to it and clicking.
      await page.waitForTimeout(2500);
      await page.mouse.move(ad.x - 40, ad.y - 20, { steps: 8 });
      await page.waitForTimeout(900);
      await page.mouse.click(ad.x - 7, ad.y + 3);
      await page.waitForTimeout(1500);
    });

    const deadline = Date.now() + 60000;
    let mine = {};
    for (;;) {
      const records = (await readAll({ tail: TAIL, brokers: BROKERS })).filter((r) => r.collected?.user_agent?.includes(`SightlineIvt/${run}/`));
      mine = Object.fromEntries(Object.entries(agents).map(([name, ua]) => [name, records.filter((r) => r.collected.user_agent === ua)]));
      const humanClick = mine.human.some((r) => r.kind === 'ad_click');
      if ((Object.values(mine).every((rs) => rs.some((r) => r.kind === 'page_view')) && humanClick) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const reasons = (r) => (r.collected.ivt_reasons ?? []).map(Number);

    assert.ok(mine.headless.length > 0, 'headless records in Kafka');
    for (const r of mine.headless) {
      assert.equal(r.collected.traffic_class, CLASS.GIVT, `headless ${r.kind}`);
      assert.deepEqual(reasons(r), [REASON.AUTOMATION], `headless ${r.kind}`);
    }
    assert.ok(mine.crawler.length > 0, 'crawler records in Kafka');
    for (const r of mine.crawler) {
      assert.equal(r.collected.traffic_class, CLASS.GIVT, `crawler ${r.kind}`);
      assert.deepEqual(reasons(r), [REASON.CRAWLER], `crawler ${r.kind}`);
    }
    assert.ok(mine.human.some((r) => r.kind === 'ad_click'), 'the human-like click reached Kafka');
    for (const r of mine.human) {
      assert.equal(r.collected.traffic_class, CLASS.VALID, `human ${r.kind}: ${reasons(r)}`);
      assert.deepEqual(reasons(r), [], `human ${r.kind}`);
    }
  } finally {
    await automated.close();
    await hidden.close();
  }
});
