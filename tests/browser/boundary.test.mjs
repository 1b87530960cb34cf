// The JS half of the SDK's JS↔Rust boundary, checked against the Rust table
// (sdk-wasm/src/boundary.rs). The real js/dom.js runs standalone in Chromium, with a stand-in
// for the wasm's dispatch export that records what it receives; every event, call and array
// it hands over is produced with distinct values and checked slot by slot against the layouts
// of the table, as the generated block of js/dom.js lists them (tests/boundary.rs keeps that
// block equal to the table). Swapping two values of an array, two dispatch kinds or two
// opcodes in js/dom.js fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launch } from './harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const domSource = readFileSync(path.join(root, 'sdk-wasm/js/dom.js'), 'utf8');
const tcfSource = readFileSync(path.join(root, 'sdk-wasm/js/modules/tcf.js'), 'utf8');
const leaseSource = readFileSync(path.join(root, 'sdk-wasm/js/modules/lease.js'), 'utf8');

/** The table as js/dom.js's generated block states it: codes, separators, array layouts. */
function table(source) {
  const block = source.slice(source.indexOf('// @boundary'), source.indexOf('// @end boundary'));
  assert.ok(block.length > 0, 'js/dom.js has a boundary block');
  const codes = {};
  for (const [, name, value] of block.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+) = (\d+|'\\u[0-9a-f]{4}')/g)) {
    codes[name] = value.startsWith("'") ? String.fromCharCode(parseInt(value.slice(3, 7), 16)) : Number(value);
  }
  const layouts = {};
  for (const [, name, slots] of block.matchAll(/^\/\/ {3}([A-Z_]+) = \[([A-Z0-9_, ]+)\]$/gm)) {
    layouts[name] = Object.fromEntries(slots.split(', ').map((slot, i) => [slot, i]));
  }
  return { codes, layouts };
}
const { codes, layouts } = table(domSource);

const ORIGIN = 'http://boundary.test';
const PAGE = `<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0;width:3000px;height:5000px">
  <a id="link" href="${ORIGIN}/course/7?x=1" class="card wide"><span id="inner" data-track="buy">Course seven</span></a>
  <div id="slot" style="position:absolute;left:113px;width:119px;height:121px"></div>
</body></html>`;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/**
 * A page with js/dom.js imported as `window.dom` and a recorder in place of the wasm's
 * dispatch export: `window.seen` gets {kind, target, numbers} per event (the numbers read
 * with nums(NUMS_EVENT), as the wasm does).
 */
async function open(options = {}, init) {
  const context = await browser.newContext({ viewport: { width: 801, height: 602 }, ...options });
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/dom.js') return route.fulfill({ contentType: 'text/javascript', body: domSource });
    if (url.pathname === '/tcf.js') return route.fulfill({ contentType: 'text/javascript', body: tcfSource });
    // This origin is insecure (no Web Locks): the queue's drain lock is the lease module.
    if (url.pathname === '/sightline-lease.js') return route.fulfill({ contentType: 'text/javascript', body: leaseSource });
    if (url.pathname === '/collect/503') {
      return route.fulfill({ status: 503, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString(), 'access-control-allow-origin': '*', 'access-control-expose-headers': 'retry-after' }, body: '' });
    }
    if (url.pathname === '/collect/down') return route.abort('connectionrefused');
    return route.fulfill({ contentType: 'text/html', body: PAGE });
  });
  await page.goto(`${ORIGIN}/page?q=1`, { referer: 'http://referrer.test/from' });
  await page.evaluate(async (eventWhich) => {
    window.seen = [];
    window.__dispatch = (kind, target) => {
      window.seen.push({ kind, target, numbers: Array.from(window.dom.nums(eventWhich)) });
    };
    window.dom = await import('/dom.js');
  }, codes.NUMS_EVENT);
  return { page, close: () => context.close() };
}

/** Waits until an event of `kind` was dispatched (a positive marker), returns the last one. */
async function dispatched(page, kind) {
  await page.waitForFunction((k) => window.seen.some((e) => e.kind === k), kind, { timeout: 10_000 });
  return page.evaluate((k) => {
    const e = window.seen.filter((x) => x.kind === k).pop();
    const t = e.target;
    return { kind: e.kind, numbers: e.numbers, target: t == null ? t : t.id ?? String(t) };
  }, kind);
}

/** `numbers` read through `layout`: {SLOT: value}. */
function byLayout(layout, numbers) {
  assert.equal(numbers.length, Object.keys(layout).length, `one number per slot of ${Object.keys(layout)}`);
  return Object.fromEntries(Object.entries(layout).map(([slot, i]) => [slot, numbers[i]]));
}

test('the table parsed from js/dom.js has every group the wasm uses', () => {
  for (const name of ['DISPATCH_CLICK', 'NUMS_METRICS', 'TEXT_LANGUAGE', 'EL_LINK_HREF', 'STORE_REMOVE', 'QUEUE_BODY', 'SEP_RECORD']) {
    assert.ok(name in codes, name);
  }
  for (const name of ['CLICK', 'VISIBILITY', 'TIMER', 'DELIVERY', 'IO', 'METRICS', 'STATE', 'EVICTED', 'RECT', 'CONFIG', 'OPTION']) {
    assert.ok(name in layouts, name);
  }
});

test('every DOM event reaches the wasm with its own dispatch kind and the CLICK layout', async () => {
  const { page, close } = await open();
  await page.evaluate(() => { window.dom.start(60_000, false); window.scrollTo(30, 40); });
  await page.waitForFunction(() => window.scrollX === 30 && window.scrollY === 40);

  // A real click (the browser computes page coordinates from the scroll offset) …
  await page.mouse.click(11, 12);
  const click = await dispatched(page, codes.DISPATCH_CLICK);
  assert.deepEqual(byLayout(layouts.CLICK, click.numbers), { PAGE_X: 41, PAGE_Y: 52, CLIENT_X: 11, CLIENT_Y: 12, BUTTON: 0, TRUSTED: true });
  // (booleans become 1/0 on the way into the wasm: the glue copies the array into a Float64Array)
  // … and a synthetic one for a button other than 0.
  await page.evaluate(() => {
    window.seen = [];
    document.getElementById('inner').dispatchEvent(new MouseEvent('click', { clientX: 3, clientY: 4, button: 2, bubbles: true }));
  });
  const secondary = await dispatched(page, codes.DISPATCH_CLICK);
  assert.equal(secondary.target, 'inner', 'the clicked element is the target');
  assert.equal(byLayout(layouts.CLICK, secondary.numbers).BUTTON, 2);
  assert.equal(byLayout(layouts.CLICK, secondary.numbers).TRUSTED, false, 'dispatched by script: not trusted');

  const events = [
    ['DISPATCH_SCROLL', () => window.scrollTo(31, 41)],
    ['DISPATCH_MOUSE_OVER', () => document.getElementById('inner').dispatchEvent(new MouseEvent('mouseover', { bubbles: true }))],
    ['DISPATCH_MOUSE_OUT', () => document.getElementById('inner').dispatchEvent(new MouseEvent('mouseout', { bubbles: true, relatedTarget: document.getElementById('slot') }))],
    ['DISPATCH_POP_STATE', () => window.dispatchEvent(new PopStateEvent('popstate'))],
    ['DISPATCH_PUSH_STATE', () => history.pushState({}, '', '/page/2')],
    ['DISPATCH_VISIBILITY', () => document.dispatchEvent(new Event('visibilitychange'))],
    ['DISPATCH_PAGE_HIDE', () => window.dispatchEvent(new Event('pagehide'))],
    ['DISPATCH_QUEUE_READY', () => window.dispatchEvent(new Event('online'))],
    ['DISPATCH_FOCUS', () => window.dispatchEvent(new Event('focus'))],
    ['DISPATCH_BLUR', () => window.dispatchEvent(new Event('blur'))],
  ];
  for (const [name, trigger] of events) {
    await page.evaluate(() => { window.seen = []; });
    await page.evaluate(trigger);
    // The first event dispatched for the trigger is the one it maps to.
    await page.waitForFunction(() => window.seen.length > 0);
    const kind = await page.evaluate(() => window.seen[0].kind);
    assert.equal(kind, codes[name], `${name}: got kind ${kind}`);
  }
  await page.evaluate(() => { window.seen = []; document.getElementById('inner').dispatchEvent(new MouseEvent('mouseout', { bubbles: true, relatedTarget: document.getElementById('slot') })); });
  assert.equal((await dispatched(page, codes.DISPATCH_MOUSE_OUT)).target, 'slot', 'mouseout hands over relatedTarget');
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  const visibility = await dispatched(page, codes.DISPATCH_VISIBILITY);
  assert.deepEqual(byLayout(layouts.VISIBILITY, visibility.numbers), { HIDDEN: await page.evaluate(() => +document.hidden) });
  await close();
});

test('timers, animation frames, the flush interval and mutations have their kinds; TIMER layout', async () => {
  const { page, close } = await open();
  await page.evaluate(() => window.dom.start(250, true));
  await page.evaluate(() => window.dom.timer(5, 7, 9));
  const timer = await dispatched(page, codes.DISPATCH_TIMER);
  assert.deepEqual(byLayout(layouts.TIMER, timer.numbers), { PURPOSE: 7, KEY: 9 });
  await page.evaluate(() => window.dom.timer(-1, 0, 0));
  await dispatched(page, codes.DISPATCH_ANIMATION_FRAME);
  await dispatched(page, codes.DISPATCH_FLUSH_INTERVAL);
  await page.evaluate(() => document.body.appendChild(document.createElement('p')));
  await dispatched(page, codes.DISPATCH_MUTATION);
  await close();
});

test('a fetch outcome comes back as DELIVERY with the Retry-After header', async () => {
  const { page, close } = await open();
  await page.evaluate(() => window.dom.start(60_000, false));
  assert.equal(await page.evaluate(() => window.dom.send('/collect/503', new Uint8Array([1, 2]), 77, false)), true);
  const answer = await dispatched(page, codes.DISPATCH_DELIVERY);
  const got = byLayout(layouts.DELIVERY, answer.numbers);
  assert.equal(got.REQUEST_ID, 77);
  assert.equal(got.STATUS, 503);
  assert.ok(got.RETRY_DATE_MS > 20_000 && got.RETRY_DATE_MS <= 31_000, `ms until the Retry-After date: ${got.RETRY_DATE_MS}`);
  assert.match(answer.target, /GMT$/, 'the Retry-After header is the target');

  await page.evaluate(() => { window.seen = []; window.dom.send('/collect/down', new Uint8Array([3]), 78, false); });
  const failed = byLayout(layouts.DELIVERY, (await dispatched(page, codes.DISPATCH_DELIVERY)).numbers);
  assert.equal(failed.REQUEST_ID, 78);
  assert.equal(failed.STATUS, 0, 'a network error has status 0');
  assert.ok(Number.isNaN(failed.RETRY_DATE_MS));
  await close();
});

test('an IntersectionObserver entry follows the IO layout', async () => {
  const { page, close } = await open();
  const expected = await page.evaluate(async () => {
    window.scrollTo(30, 40);
    const slot = document.getElementById('slot');
    // 60 of its 121 px inside the viewport: a ratio that is no other slot's value.
    slot.style.top = `${40 + document.documentElement.clientHeight - 60}px`;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    window.dom.start(60_000, true);
    window.dom.watch(slot, true);
    const r = slot.getBoundingClientRect();
    return { X: r.x, Y: r.y, WIDTH: r.width, HEIGHT: r.height, SCROLL_X: scrollX, SCROLL_Y: scrollY,
      PAGE_HEIGHT: document.documentElement.scrollHeight, now: performance.now() };
  });
  const entry = await dispatched(page, codes.DISPATCH_INTERSECTION);
  assert.equal(entry.target, 'slot');
  const got = byLayout(layouts.IO, entry.numbers);
  for (const slot of ['X', 'Y', 'WIDTH', 'HEIGHT', 'SCROLL_X', 'SCROLL_Y', 'PAGE_HEIGHT']) {
    assert.equal(got[slot], expected[slot], slot);
  }
  assert.ok(Math.abs(got.RATIO - 60 / 121) < 0.02, `ratio ${got.RATIO}`);
  assert.ok([-1, 0, 1].includes(got.IS_VISIBLE), `isVisible ${got.IS_VISIBLE}`);
  assert.ok(got.TIME > 0 && got.TIME < expected.now + 10_000, `time ${got.TIME}`);
  const root = await page.evaluate(() => [document.documentElement.clientWidth, document.documentElement.clientHeight]);
  assert.deepEqual([got.ROOT_WIDTH, got.ROOT_HEIGHT], root);
  await close();
});

test('nums: page metrics, page state and the eviction count follow their layouts', async () => {
  const { page, close } = await open(
    { screen: { width: 1367, height: 769 }, deviceScaleFactor: 1.25, timezoneId: 'Asia/Kolkata' },
    () => {
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
      Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => true, configurable: true });
      Document.prototype.hasFocus = () => false;
    });
  await page.evaluate(() => window.scrollTo(30, 40));
  await page.waitForFunction(() => window.scrollX === 30 && window.scrollY === 40);
  const metrics = await page.evaluate((which) => Array.from(window.dom.nums(which)), codes.NUMS_METRICS);
  assert.deepEqual(byLayout(layouts.METRICS, metrics), {
    VIEWPORT_WIDTH: 801, VIEWPORT_HEIGHT: 602, SCREEN_WIDTH: 1367, SCREEN_HEIGHT: 769, PIXEL_RATIO: 1.25,
    TIMEZONE_OFFSET: 330, PAGE_HEIGHT: 5000, SCROLL_X: 30, SCROLL_Y: 40,
  });
  // Unfocused with GPC under WebDriver, then focused without GPC, prerendering and not
  // driven: each slot is seen in both states, and SIGNALS carries each of its two bits.
  const state = await page.evaluate((which) => Array.from(window.dom.nums(which)), codes.NUMS_PAGE_STATE);
  assert.deepEqual(byLayout(layouts.STATE, state), { ACTIVE: 0, DO_NOT_TRACK: 1, SIGNALS: 1 });
  const flipped = await page.evaluate((which) => {
    Document.prototype.hasFocus = () => true;
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => false });
    Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false });
    Object.defineProperty(Document.prototype, 'prerendering', { get: () => true, configurable: true });
    return Array.from(window.dom.nums(which));
  }, codes.NUMS_PAGE_STATE);
  assert.deepEqual(byLayout(layouts.STATE, flipped), { ACTIVE: 1, DO_NOT_TRACK: 0, SIGNALS: 2 });
  const evicted = await page.evaluate((which) => {
    localStorage.setItem('sl_qe', '7');
    return [Array.from(window.dom.nums(which)), localStorage.getItem('sl_qe')];
  }, codes.NUMS_EVICTED);
  assert.deepEqual(byLayout(layouts.EVICTED, evicted[0]), { COUNT: 7 });
  assert.equal(evicted[1], null, 'read and reset');
  await close();
});

test('text, el, path and rect answer by their codes and layouts', async () => {
  const { page, close } = await open({ locale: 'en-IN' });
  await page.evaluate(() => window.scrollTo(30, 40));
  await page.waitForFunction(() => window.scrollX === 30 && window.scrollY === 40);
  const got = await page.evaluate((c) => {
    const inner = document.getElementById('inner'), link = document.getElementById('link');
    const r = link.getBoundingClientRect();
    const hiddenUnder = (style) => {
      link.setAttribute('style', style);
      const hidden = window.dom.el(inner, c.EL_HIDDEN, '');
      link.removeAttribute('style');
      return hidden;
    };
    return {
      location: window.dom.text(c.TEXT_LOCATION), referrer: window.dom.text(c.TEXT_REFERRER), language: window.dom.text(c.TEXT_LANGUAGE),
      attribute: window.dom.el(inner, c.EL_ATTRIBUTE, 'data-track'), text: window.dom.el(inner, c.EL_TEXT, ''),
      href: window.dom.el(inner, c.EL_LINK_HREF, ''), path: window.dom.path(inner, 3),
      rect: Array.from(window.dom.rect(link)), expected: [r.x, r.y, r.width, r.height],
      // EL_HIDDEN: '' when CSS hides the element (opacity 0 on an ancestor, visibility,
      // display), null when it shows or is not in the document.
      hidden: ['', 'opacity: 0', 'visibility: hidden', 'display: none'].map(hiddenUnder)
        .concat(window.dom.el(document.createElement('div'), c.EL_HIDDEN, '')),
    };
  }, codes);
  assert.equal(got.location, `${ORIGIN}/page?q=1`);
  assert.equal(got.referrer, 'http://referrer.test/from');
  assert.equal(got.language, 'en-IN');
  assert.equal(got.attribute, 'buy');
  assert.equal(got.text, 'Course seven');
  assert.equal(got.href, `${ORIGIN}/course/7?x=1`);
  assert.deepEqual(got.hidden, [null, '', '', '', null]);
  const { SEP_FIELD: F, SEP_RECORD: R } = codes;
  assert.equal(got.path, `span${F}inner${F}${R}a${F}link${F}card wide${R}body${F}${F}`, "lower-case tags");
  const [x, y, width, height] = got.expected;
  assert.deepEqual(byLayout(layouts.RECT, got.rect), { X: x, Y: y, WIDTH: width, HEIGHT: height, SCROLL_X: 30, SCROLL_Y: 40 });
  assert.equal(new Set([x, y, width, height, 30, 40]).size, 6, 'distinct values, so a swap shows');
  await close();
});

test('config flattens init options into the CONFIG strings and OPTION numbers', async () => {
  const { page, close } = await open();
  const options = {
    collector: 'https://c.example', siteKey: 'pk_1', consent: 'pending', adSelector: '.ad',
    dataAttributes: ['x', 'y'], queryAllowlist: ['utm_*'],
    autocapture: { hoverMs: 701 }, batch: { maxEvents: 7, maxBytes: 2049, flushIntervalMs: 333 },
    sampleRate: 0.25, queue: { maxBytes: 70_001 }, audience: 'minor',
  };
  const flags = { DEBUG: ['debug'], CLICKS: ['autocapture', 'clicks'], SCROLL: ['autocapture', 'scroll'],
    HOVERS: ['autocapture', 'hovers'], ADS: ['autocapture', 'ads'], ELEMENT_TEXT: ['autocapture', 'elementText'],
    RESPECT_DO_NOT_TRACK: ['respectDoNotTrack'] };
  const run = (o) => page.evaluate(([o, which]) => {
    const strings = window.dom.config(o);
    return { strings, numbers: Array.from(window.dom.nums(which)) };
  }, [o, codes.NUMS_EVENT]);

  const { strings, numbers } = await run(options);
  assert.deepEqual(byLayout(layouts.CONFIG, strings.split(codes.SEP_FIELD)), {
    COLLECTOR: 'https://c.example', SITE_KEY: 'pk_1', AD_SELECTOR: '.ad',
    DATA_ATTRIBUTES: `x${codes.SEP_RECORD}y`, QUERY_ALLOWLIST: 'utm_*',
  });
  const got = byLayout(layouts.OPTION, numbers);
  assert.deepEqual({ HOVER_MS: got.HOVER_MS, MAX_EVENTS: got.MAX_EVENTS, MAX_BYTES: got.MAX_BYTES,
    FLUSH_INTERVAL_MS: got.FLUSH_INTERVAL_MS, SAMPLE_RATE: got.SAMPLE_RATE, QUEUE_MAX_BYTES: got.QUEUE_MAX_BYTES },
  { HOVER_MS: 701, MAX_EVENTS: 7, MAX_BYTES: 2049, FLUSH_INTERVAL_MS: 333, SAMPLE_RATE: 0.25, QUEUE_MAX_BYTES: 70_001 });
  for (const slot of Object.keys(flags)) assert.ok(Number.isNaN(got[slot]), `${slot}: not given is NaN`);
  // PRIVACY: a core::privacy given word, 2 bits per purpose (3 = pending) and the minor bit.
  assert.equal(got.PRIVACY, 0b11_11_11 | codes.PRIVACY_MINOR, 'consent pending for all, audience minor');
  const privacy = async (o) => byLayout(layouts.OPTION, (await run(o)).numbers).PRIVACY;
  assert.equal(await privacy({ consent: { measurement: 'granted', storage: 'denied' } }), 0b10_00_01, 'per purpose');
  assert.equal(await privacy({ consent: 'yes' }) & codes.PRIVACY_INVALID, codes.PRIVACY_INVALID, 'not a state');
  assert.equal(await page.evaluate(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  }), undefined);
  assert.equal(await privacy({}), codes.PRIVACY_GPC, 'GPC honoured by default');
  assert.equal(await privacy({ respectGlobalPrivacyControl: false }), 0, 'unless the site says otherwise');

  // One flag true and every other false at a time: each flag lands in its own slot.
  for (const [slot, [first, second]] of Object.entries(flags)) {
    const o = { autocapture: {} };
    for (const [, [a, b]] of Object.entries(flags)) b ? (o[a][b] = false) : (o[a] = false);
    second ? (o[first][second] = true) : (o[first] = true);
    const set = byLayout(layouts.OPTION, (await run(o)).numbers);
    for (const other of Object.keys(flags)) assert.equal(set[other], other === slot ? 1 : 0, `${slot} set: ${other}`);
  }
  const missing = (await run({ collector: 5, dataAttributes: 'x' })).strings.split(codes.SEP_FIELD);
  assert.equal(missing[layouts.CONFIG.COLLECTOR], codes.SEP_MISSING, 'a non-string is SEP_MISSING');
  assert.equal(missing[layouts.CONFIG.DATA_ATTRIBUTES], codes.SEP_MISSING, 'a non-array is SEP_MISSING');
  await close();
});

test('pairs: records of type letter, name and value; numbers at the entry index', async () => {
  const { page, close } = await open();
  const { text, numbers } = await page.evaluate((which) => {
    const text = window.dom.pairs({ plan: 'pro', seats: 3, trial: true, skip: {}, ratio: 0.5 }, 32);
    return { text, numbers: Array.from(window.dom.nums(which)) };
  }, codes.NUMS_EVENT);
  const { SEP_FIELD: F, SEP_RECORD: R } = codes;
  assert.equal(text, [`splan${F}pro`, `nseats${F}3`, `btrial${F}true`, `nratio${F}0.5`].join(R));
  assert.deepEqual(numbers.map((n) => (Number.isNaN(n) ? 'NaN' : n)), ['NaN', 3, 1, 0.5]);
  await close();
});

test('store: each STORE_* code does its operation (cookie fallback only for STORE_SET_WITH_COOKIE)', async () => {
  const { page, close } = await open();
  const got = await page.evaluate((c) => {
    const s = window.dom.store;
    s(c.STORE_SET_WITH_COOKIE, 'k1', 'v1');
    s(c.STORE_SET_LOCAL, 'k2', 'v2');
    const read = [s(c.STORE_GET, 'k1', ''), s(c.STORE_GET, 'k2', ''), localStorage.getItem('k1')];
    s(c.STORE_REMOVE, 'k1', '');
    return [...read, localStorage.getItem('k1'), document.cookie];
  }, codes);
  assert.deepEqual(got, ['v1', 'v2', 'v1', null, '']);
  await close();

  // Without localStorage: the cookie fallback.
  const denied = await open({}, () => {
    Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('denied', 'SecurityError'); } });
  });
  const cookies = await denied.page.evaluate((c) => {
    const s = window.dom.store;
    s(c.STORE_SET_WITH_COOKIE, 'k1', 'v1');
    s(c.STORE_SET_LOCAL, 'k2', 'v2');
    const read = [s(c.STORE_GET, 'k1', ''), s(c.STORE_GET, 'k2', '')];
    s(c.STORE_REMOVE, 'k1', '');
    return [...read, s(c.STORE_GET, 'k1', '')];
  }, codes);
  assert.deepEqual(cookies, ['v1', null, null]);
  await denied.close();
});

test('queue: each QUEUE_* code does its operation; QUEUE_NEXT answers with DISPATCH_QUEUE_BATCH', async () => {
  const { page, close } = await open();
  await page.evaluate((c) => {
    window.dom.start(60_000, false);
    window.dom.queue(c.QUEUE_OPEN, new Uint8Array(0), 1 << 20, 0);
    window.dom.queue(c.QUEUE_PUT, new Uint8Array([5, 6, 7]), 0, 0);
    window.dom.queue(c.QUEUE_NEXT, new Uint8Array(0), 0, 0);
  }, codes);
  await dispatched(page, codes.DISPATCH_QUEUE_BATCH);
  const body = await page.evaluate((c) => Array.from(window.dom.queue(c.QUEUE_BODY, new Uint8Array(0), 0, 0) || []), codes);
  assert.deepEqual(body, [5, 6, 7]);
  // Delivered: deleted, and the next hand-out finds nothing.
  await page.evaluate((c) => { window.seen = []; window.dom.queue(c.QUEUE_NEXT, new Uint8Array(0), 1, 0); }, codes);
  await dispatched(page, codes.DISPATCH_QUEUE_BATCH);
  assert.equal(await page.evaluate((c) => window.dom.queue(c.QUEUE_BODY, new Uint8Array(0), 0, 0), codes), null);
  // CLEAR deletes what PUT stored (a later hand-out is empty); RELEASE keeps it.
  await page.evaluate((c) => {
    window.seen = [];
    window.dom.queue(c.QUEUE_PUT, new Uint8Array([8]), 1, 0);
    window.dom.queue(c.QUEUE_RELEASE, new Uint8Array(0), 0, 0);
    window.dom.queue(c.QUEUE_NEXT, new Uint8Array(0), 0, 0);
  }, codes);
  await dispatched(page, codes.DISPATCH_QUEUE_BATCH);
  assert.deepEqual(await page.evaluate((c) => Array.from(window.dom.queue(c.QUEUE_BODY, new Uint8Array(0), 0, 0) || []), codes), [8]);
  await page.evaluate((c) => {
    window.seen = [];
    window.dom.queue(c.QUEUE_CLEAR, new Uint8Array(0), 0, 0);
    window.dom.queue(c.QUEUE_NEXT, new Uint8Array(0), 0, 0);
  }, codes);
  await dispatched(page, codes.DISPATCH_QUEUE_BATCH);
  assert.equal(await page.evaluate((c) => window.dom.queue(c.QUEUE_BODY, new Uint8Array(0), 0, 0), codes), null);
  await close();
});

test('the optional TCF module maps the CMP signal to a privacy word in the TCF layout', async () => {
  const tcf = table(tcfSource);
  const { page, close } = await open();
  const got = await page.evaluate(async () => {
    const purposes = (list) => Object.fromEntries(list.map((n) => [n, true]));
    window.__tcfapi = (command, version, callback) => {
      if (command !== 'addEventListener' || version !== 2) return;
      callback({ eventStatus: 'cmpuishown', gdprApplies: true }, true); // the user is being asked: nothing yet
      callback({ eventStatus: 'tcloaded' }, true); // gdprApplies not said: nothing changes
      callback({ tcString: 'CPtc', gdprApplies: false, eventStatus: 'tcloaded' }, true);
      // Purpose 1 refused; measurement by legitimate interest.
      callback({ tcString: 'CPtc', gdprApplies: true, eventStatus: 'useractioncomplete',
        purpose: { consents: purposes([3, 4]), legitimateInterests: purposes([7, 8, 9]) } }, true);
      callback({ gdprApplies: true, eventStatus: 'useractioncomplete',
        purpose: { consents: purposes([1, 3, 4, 7, 8]), legitimateInterests: {} } }, false); // not ok: ignored
    };
    const calls = [];
    const m = await import('/tcf.js');
    m.default((kind, target, numbers) => calls.push({ kind, target, numbers }));
    return calls;
  });
  assert.equal(got.length, 2, 'only decided states are forwarded');
  assert.equal(got[0].kind, tcf.codes.DISPATCH_TCF);
  assert.equal(got[0].kind, codes.DISPATCH_TCF, 'the same kind as js/dom.js knows');
  // [measurement, personalization, storage], 2 bits each: 1 granted, 2 denied.
  assert.deepEqual(byLayout(tcf.layouts.TCF, got[0].numbers), { PURPOSES: 0b01_01_01 }, 'GDPR does not apply');
  assert.deepEqual(byLayout(tcf.layouts.TCF, got[1].numbers), { PURPOSES: 0b10_01_01 });
  await close();
});
