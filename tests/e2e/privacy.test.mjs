// Privacy modes through the real path: demo site (script tag) → SDK → collector → Kafka. Two
// visits, each with its own user agent so its records can be told apart: one with Global
// Privacy Control on (cookieless: no anonymous or user id in any record, nothing stored, the
// events still delivered) and one whose visitor becomes a known minor (restricted: after
// identify(..., { minor: true }) no id, no traits and no behavioural events reach Kafka, page
// views still do).
//
// The collector (collector/src/privacy/) enforces the mode again: cookieless records carry its
// derived visitor id (`visitor_id`, a keyed daily hash) instead of any SDK id; restricted
// records carry no identity. What the SDK puts in each batch (privacy_mode, consent) is
// asserted in tests/browser/privacy.test.mjs; the collector's own enforcement of forged
// batches in the collector's tests.
//
// Each visit ends without a flush(): its last batch goes by beacon at page hide, which
// tests/e2e/pagehide.test.mjs checks in every mode. Each visit has its own browser, launched
// with `--user-agent`: a per-context `userAgent` (CDP Emulation.setUserAgentOverride) is not
// applied to requests that leave after the page is gone, so the page-hide beacon carried the
// browser's own agent (`HeadlessChrome/…`), its records were not matched to their visit and
// the last batch of both visits looked lost (and a cookieless visitor id, keyed by the agent,
// differed for it).
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

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

test('GPC visits are cookieless and minors restricted, in the records that reach Kafka', { timeout: 180000 }, async () => {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const agents = { gpc: `${DESKTOP} SightlinePrivacy/${run}/gpc`, minor: `${DESKTOP} SightlinePrivacy/${run}/minor` };
  const launch = (agent) => chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, `--user-agent=${agent}`] });
  const browsers = [];
  let storedGpc;
  try {
    const gpcBrowser = await launch(agents.gpc);
    browsers.push(gpcBrowser);
    const gpc = await gpcBrowser.newContext({ viewport: { width: 1280, height: 800 } });
    await gpc.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
    });
    const page = await gpc.newPage();
    await page.goto(`${SITE}/?variant=A`);
    await page.waitForSelector('#view main');
    await page.evaluate(() => window.sightline('identify', 'u-gpc', { college: 'X' }));
    await page.evaluate(() => window.sightline('track', 'gpc-probe'));
    storedGpc = await page.evaluate(() => ({ local: Object.keys(localStorage).filter((k) => k.startsWith('sl_')), cookie: document.cookie }));
    await page.goto('about:blank');

    const minorBrowser = await launch(agents.minor);
    browsers.push(minorBrowser);
    const minor = await minorBrowser.newContext({ viewport: { width: 1280, height: 800 } });
    const child = await minor.newPage();
    await child.goto(`${SITE}/?variant=A`);
    await child.waitForSelector('#view main');
    await child.evaluate(() => window.sightline('identify', 'u-minor', { college: 'X' }, { minor: true }));
    await child.evaluate(() => window.sightline('track', 'enrolled', { course: 'c1' }));
    await child.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    // Scroll depth is read at the next animation frame: let one pass before the page view.
    await child.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await child.evaluate(() => window.sightline('page'));
    await child.goto('about:blank');

    const deadline = Date.now() + 60000;
    let mine;
    for (;;) {
      const records = (await readAll({ tail: TAIL, brokers: BROKERS })).filter((r) => r.collected?.user_agent?.includes(`SightlinePrivacy/${run}/`));
      mine = Object.fromEntries(Object.entries(agents).map(([name, ua]) => [name, records.filter((r) => r.collected.user_agent === ua)]));
      const minorViews = mine.minor.filter((r) => r.kind === 'page_view').length;
      if ((mine.gpc.some((r) => r.kind === 'custom') && minorViews >= 2) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    await gpc.close();
    await minor.close();

    assert.ok(mine.gpc.some((r) => r.kind === 'page_view'), 'GPC: page views delivered');
    assert.ok(mine.gpc.some((r) => r.kind === 'custom'), 'GPC: custom events still delivered');
    const visitors = new Set();
    for (const r of mine.gpc) {
      assert.equal(r.privacy_mode, 'cookieless', `GPC ${r.kind}: cookieless`);
      assert.equal(r.collected.identity?.anonymous_id ?? '', '', `GPC ${r.kind}: no anonymous id`);
      assert.equal(r.collected.identity?.user_id ?? '', '', `GPC ${r.kind}: no user id`);
      assert.match(r.collected.visitor_id ?? '', /^[0-9a-f]{32}$/, `GPC ${r.kind}: the collector derived a visitor id`);
      visitors.add(r.collected.visitor_id);
      assert.ok(!r.collected.identity_stripped, `GPC ${r.kind}: the SDK sent nothing the collector had to strip`);
    }
    assert.equal(visitors.size, 1, 'one visitor id for the whole visit (same site, address, agent, day)');
    assert.deepEqual(storedGpc, { local: [], cookie: '' }, 'GPC: nothing stored');

    const views = mine.minor.filter((r) => r.kind === 'page_view');
    assert.ok(views.length >= 2, `minor: page views delivered (${mine.minor.map((r) => r.kind)})`);
    for (const r of mine.minor) {
      assert.notEqual(r.collected.identity?.user_id, 'u-minor', `minor ${r.kind}: no user id`);
      assert.deepEqual({ ...(r.collected.identity?.traits ?? {}) }, {}, `minor ${r.kind}: no traits`);
    }
    const restricted = mine.minor.filter((r) => r.privacy_mode === 'restricted');
    assert.ok(restricted.some((r) => r.kind === 'page_view'), `minor: restricted page views arrived (${mine.minor.map((r) => r.privacy_mode)})`);
    for (const r of restricted) {
      const id = r.collected.identity ?? {};
      assert.deepEqual([id.anonymous_id ?? '', id.user_id ?? '', id.session_id ?? ''], ['', '', ''], `restricted ${r.kind}: no ids`);
      assert.equal(r.collected.visitor_id ?? '', '', `restricted ${r.kind}: no visitor id either`);
      assert.ok(!r.collected.identity_stripped, `restricted ${r.kind}: the SDK sent nothing the collector had to strip`);
    }
    for (const kind of ['custom', 'scroll', 'hover', 'search']) {
      assert.ok(!mine.minor.some((r) => r.kind === kind), `minor: no ${kind} record`);
    }
  } finally {
    for (const browser of browsers) await browser.close();
  }
});
