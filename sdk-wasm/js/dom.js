// The SDK's browser plumbing, hand-written so the wasm needs ~20 coarse imports instead of
// ~140 web-sys bindings. It only attaches listeners, reads a few numbers or strings per
// call and starts requests/timers; every decision (what to record, batching, encoding,
// sessions, selectors, viewability, consent, retries) is made in Rust. Every DOM event and
// timer reaches the wasm through one function, `on(kind, target)` (the wasm export
// `__dispatch`, see `start`); numbers travel in `A`, which the wasm reads with
// `nums(NUMS_EVENT)`. Nothing here throws into the host page.
//
// Every code and array layout shared with the wasm is defined once, in Rust
// (sdk-wasm/src/boundary.rs); the block below is generated from it and checked by
// `cargo test -p sightline-sdk --test boundary`, and tests/browser/boundary.test.mjs checks
// in Chromium that every array written here follows the layouts listed in it.
// @boundary dispatch nums text el store queue report sep click visibility timer delivery intersection metrics page_state evicted rect config_text config_numbers privacy
// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run
// SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary
var DISPATCH_CLICK = 0, DISPATCH_SCROLL = 1, DISPATCH_MOUSE_OVER = 2, DISPATCH_MOUSE_OUT = 3,
    DISPATCH_POP_STATE = 4, DISPATCH_PUSH_STATE = 5, DISPATCH_VISIBILITY = 6,
    DISPATCH_PAGE_HIDE = 7, DISPATCH_FOCUS = 8, DISPATCH_BLUR = 9, DISPATCH_FLUSH_INTERVAL = 10,
    DISPATCH_ANIMATION_FRAME = 11, DISPATCH_TIMER = 12, DISPATCH_DELIVERY = 13,
    DISPATCH_INTERSECTION = 14, DISPATCH_MUTATION = 15, DISPATCH_QUEUE_READY = 16,
    DISPATCH_QUEUE_BATCH = 17, DISPATCH_TCF = 18, DISPATCH_AD_VIDEO = 19, DISPATCH_CONSENT = 20;
var NUMS_EVENT = 0, NUMS_METRICS = 1, NUMS_PAGE_STATE = 2, NUMS_EVICTED = 3;
var TEXT_LOCATION = 0, TEXT_REFERRER = 1, TEXT_LANGUAGE = 2;
var EL_ATTRIBUTE = 0, EL_TEXT = 1, EL_LINK_HREF = 2, EL_HIDDEN = 3;
var STORE_GET = 0, STORE_SET_WITH_COOKIE = 1, STORE_SET_LOCAL = 2, STORE_REMOVE = 3;
var QUEUE_OPEN = 0, QUEUE_PUT = 1, QUEUE_NEXT = 2, QUEUE_RELEASE = 3, QUEUE_CLEAR = 4,
    QUEUE_BODY = 5;
var REPORT_DO_NOT_TRACK = 0, REPORT_TCF_RECEIVED = 1, REPORT_INIT_TWICE = 2,
    REPORT_INIT_OPTIONS = 3, REPORT_CONSENT_STATES = 4, REPORT_USER_ID = 5,
    REPORT_IDENTIFY_TRAITS = 6, REPORT_SET_TRAITS = 7, REPORT_EXPERIMENT = 8,
    REPORT_TRACK_NAME = 9, REPORT_TRACK_PROPS = 10, REPORT_SEARCH_QUERY = 11, REPORT_REJECTED = 12,
    REPORT_QUEUE_EVICTED = 13;
var SEP_FIELD = '\u0000', SEP_RECORD = '\u0001', SEP_MISSING = '\u0002';
var PRIVACY_GPC = 512, PRIVACY_MINOR = 1024, PRIVACY_INVALID = 2048;
// Arrays of numbers, slot by slot (the JS writes them positionally):
//   CLICK = [PAGE_X, PAGE_Y, CLIENT_X, CLIENT_Y, BUTTON, TRUSTED]
//   VISIBILITY = [HIDDEN]
//   TIMER = [PURPOSE, KEY]
//   DELIVERY = [REQUEST_ID, STATUS, RETRY_DATE_MS]
//   IO = [TIME, RATIO, IS_VISIBLE, X, Y, WIDTH, HEIGHT, ROOT_WIDTH, ROOT_HEIGHT, SCROLL_X, SCROLL_Y, PAGE_HEIGHT]
//   METRICS = [VIEWPORT_WIDTH, VIEWPORT_HEIGHT, SCREEN_WIDTH, SCREEN_HEIGHT, PIXEL_RATIO, TIMEZONE_OFFSET, PAGE_HEIGHT, SCROLL_X, SCROLL_Y]
//   STATE = [ACTIVE, DO_NOT_TRACK, SIGNALS]
//   EVICTED = [COUNT]
//   RECT = [X, Y, WIDTH, HEIGHT, SCROLL_X, SCROLL_Y]
//   CONFIG = [COLLECTOR, SITE_KEY, AD_SELECTOR, DATA_ATTRIBUTES, QUERY_ALLOWLIST]
//   OPTION = [DEBUG, CLICKS, SCROLL, HOVERS, ADS, ELEMENT_TEXT, HOVER_MS, MAX_EVENTS, MAX_BYTES, FLUSH_INTERVAL_MS, RESPECT_DO_NOT_TRACK, SAMPLE_RATE, QUEUE_MAX_BYTES, PRIVACY]
// @end boundary
var w = window, d = document, nav = navigator, on = null, A = [], L = [], H = [], T = new Set(), io, mo, iv, S = [], V;

/** Hands an event to the wasm: `kind` DISPATCH_*, `numbers` in the kind's layout. */
function fire(kind, target, numbers) {
  A = numbers || [];
  if (on) try { on(kind, target === undefined ? null : target); } catch (e) {}
}

function element(t) {
  return t && t.nodeType == 1 ? t : t && t.parentElement || null;
}

function listen(target, name, capture, handler) {
  var options = { capture: capture, passive: true };
  target.addEventListener(name, handler, options);
  L.push([target, name, handler, capture]);
}

/** Attaches every listener, the history hooks, the flush interval and the ad observers. */
export function start(intervalMs, ads) {
  // The glue's wrapper of the wasm export `dispatch`: tools/inline-dom.mjs folds this file
  // into the glue, where it is in scope (standalone, as in the wasm unit tests, `start` is
  // never called).
  on = __dispatch;
  listen(d, 'click', true, function (e) {
    // CLICK layout
    fire(DISPATCH_CLICK, element(e.target), [e.pageX, e.pageY, e.clientX, e.clientY, e.button, e.isTrusted]);
  });
  listen(w, 'scroll', false, function () { fire(DISPATCH_SCROLL); });
  listen(d, 'mouseover', true, function (e) { fire(DISPATCH_MOUSE_OVER, element(e.target)); });
  listen(d, 'mouseout', true, function (e) { fire(DISPATCH_MOUSE_OUT, e.relatedTarget); });
  listen(w, 'popstate', false, function () { fire(DISPATCH_POP_STATE); });
  listen(d, 'visibilitychange', false, function () { fire(DISPATCH_VISIBILITY, null, [+d.hidden]); });
  // The wasm gives the durable queue's drain lock back at pagehide (QUEUE_RELEASE).
  listen(w, 'pagehide', false, function () { fire(DISPATCH_PAGE_HIDE); });
  listen(w, 'online', false, function () { fire(DISPATCH_QUEUE_READY); });
  listen(w, 'focus', false, function () { fire(DISPATCH_FOCUS); });
  listen(w, 'blur', false, function () { fire(DISPATCH_BLUR); });
  var h = w.history;
  ['pushState', 'replaceState'].forEach(function (name) {
    var original = h[name];
    if (typeof original != 'function') return;
    h[name] = function () {
      // The host's own errors (e.g. a cross-origin URL) propagate unchanged.
      var result = original.apply(this, arguments);
      fire(DISPATCH_PUSH_STATE);
      return result;
    };
    H.push([name, original]);
  });
  iv = setInterval(function () { fire(DISPATCH_FLUSH_INTERVAL); }, intervalMs);
  // Optional modules (js/modules/*.js, built next to this file as sightline-<name>.js): only
  // a page that needs one downloads it. Add a line per module: its condition and its file
  // (a literal `new URL`, so bundlers see the file too).
  typeof w.__tcfapi == 'function' && optional(new URL('./sightline-tcf.js', import.meta.url),
    function (m) { m.default(fire); });
  if (ads) {
    try {
      io = new IntersectionObserver(function (entries) {
        var x = w.scrollX, y = w.scrollY, height = d.documentElement.scrollHeight;
        entries.forEach(function (e) {
          var b = e.boundingClientRect, r = e.rootBounds;
          // IO layout
          fire(DISPATCH_INTERSECTION, e.target, [e.time, e.intersectionRatio,
            io.trackVisibility === true ? +!!e.isVisible : -1,
            b.x, b.y, b.width, b.height, r ? r.width : 0, r ? r.height : 0, x, y, height]);
        });
      }, { threshold: [0, .1, .2, .25, .3, .4, .5, .6, .75, .8, .9, 1], trackVisibility: true, delay: 100 });
    } catch (e) {}
    try {
      mo = new MutationObserver(function () { fire(DISPATCH_MUTATION); });
      mo.observe(d.documentElement, { childList: true, subtree: true });
    } catch (e) {}
  }
}

/**
 * Loads the optional module at `url` and calls `use(module)`; a module that cannot load
 * (offline, CSP) is skipped (`failed`, if given): the SDK works without it. Modules talk to
 * the wasm through the dispatch table, by the `fire` they are given (a no-op after `stop`).
 */
function optional(url, use, failed) {
  import(url.href).then(use, failed);
}

/** Removes everything `start` added; later timers and responses are ignored. */
export function stop() {
  on = null;
  L.forEach(function (l) { l[0].removeEventListener(l[1], l[2], l[3]); });
  H.forEach(function (h) { w.history[h[0]] = h[1]; });
  L = []; H = [];
  clearInterval(iv);
  T.forEach(clearTimeout); T.clear();
  io && io.disconnect(); mo && mo.disconnect(); io = mo = null;
}

/** Numbers: NUMS_EVENT the current event's, NUMS_METRICS page metrics (one layout read),
 * NUMS_PAGE_STATE, NUMS_EVICTED the durable queue's eviction count (read and reset). */
export function nums(which) {
  var s = /** @type {Screen} */ (w.screen || {}), n = nav;
  return which == NUMS_EVICTED ? takeEvicted()
    // METRICS layout
    : which == NUMS_METRICS ? [w.innerWidth, w.innerHeight, s.width, s.height, w.devicePixelRatio || 1,
    -new Date().getTimezoneOffset(), d.documentElement.scrollHeight, w.scrollX, w.scrollY]
    // STATE layout
    : which == NUMS_PAGE_STATE ? [+(!d.hidden && (!d.hasFocus || d.hasFocus())),
      +(n.doNotTrack == '1' || n.globalPrivacyControl === true), (n.webdriver ? 1 : 0) + (/** @type {any} */ (d).prerendering ? 2 : 0)] : A;
}

/** Wall clock (ms since the epoch) or, with `monotonic`, the monotonic clock. */
export function now(monotonic) {
  return monotonic && w.performance ? performance.now() : Date.now();
}

/** Strings of the page, by TEXT_* code (TEXT_LOCATION, TEXT_REFERRER, TEXT_LANGUAGE index the array). */
export function text(which) {
  return [location.href, d.referrer, nav.language || ''][which] || '';
}

/**
 * About an element, by EL_* code: attribute `name`, text, '' when CSS hides it (null when
 * not), href of the enclosing link.
 */
export function el(element, which, name) {
  try {
    if (which == EL_ATTRIBUTE) return element.getAttribute(name);
    if (which == EL_TEXT) return element.textContent;
    // A removed element has no box either: it says nothing, so it is not "hidden".
    if (which == EL_HIDDEN) return element.isConnected && element.checkVisibility?.({ opacityProperty: true, visibilityProperty: true }) == 0 ? '' : null;
    var link = element.closest('a[href]');
    return link ? '' + link.href : null;
  } catch (x) { return null; }
}

/** Up to `depth` elements from `element` outwards as lower-case tag, id, class (SEP_FIELD), joined by SEP_RECORD. */
export function path(element, depth) {
  for (var out = []; element && out.length < depth; element = element.parentElement)
    out.push(element.tagName.toLowerCase() + SEP_FIELD + element.id + SEP_FIELD + (element.getAttribute('class') || ''));
  return out.join(SEP_RECORD);
}

/** parentElement (`selector` empty) or `closest(selector)`. */
export function up(element, selector) {
  try { return (selector ? element.closest(selector) : element.parentElement) || null; } catch (x) { return null; }
}

/** `a.contains(b)`, or whether `a` is still in the document when `b` is null. */
export function has(a, b) {
  return b == null ? a.isConnected : a.contains(b);
}

/** Viewport rectangle and scroll offset (RECT layout). */
export function rect(element) {
  var r = element.getBoundingClientRect();
  return [r.x, r.y, r.width, r.height, w.scrollX, w.scrollY];
}

/**
 * Elements matching `selector`, counted; read one by one with `item`. Video ad slots (a
 * `<video>` or `data-ad-format="video"`, or a slot with one inside) are not display
 * impressions: they go to the video module instead (`video`).
 */
export function scan(selector) {
  try {
    S = [].filter.call(d.querySelectorAll(selector), function (e) {
      var v = 'video,[data-ad-format=video]';
      return !(e.matches(v) || e.querySelector(v)) || video([e]);
    });
  } catch (x) { S = []; }
  return S.length;
}

/**
 * Hands `call` to the video ad module (js/modules/video.js), loading it on first use: `[slot]`
 * from `scan` (returns a falsy value: the slot is not kept), `[slot, state]` from `adVideo`. Until it loads, `V` queues the calls; the
 * module takes them and becomes `V` (its `push` measures). If it cannot load, the queued calls
 * are dropped and the next call tries again (a failed import is answered from the module map).
 */
function video(call) {
  V || (V = [], optional(new URL('./sightline-video.js', import.meta.url),
    function (m) { V = m.default(fire, V); }, function () { V = 0; }));
  V.push(call);
}

// @package-export adVideo
/**
 * `adVideo(slot, { state, currentTime, duration, muted, volume })`: a video player that is not
 * a `<video>` in an ad slot reports its state (slot: the ad slot element or its
 * `data-ad-slot` id). Never throws.
 */
function adVideo(slot, state) { video([slot, state]); }

export function item(index) { return S[index] || null; }

/** Starts (`observe`) or stops measuring an ad slot. */
export function watch(element, observe) {
  io && (observe ? io.observe(element) : io.unobserve(element));
}

/** A timer firing DISPATCH_TIMER (TIMER layout); a negative delay means DISPATCH_ANIMATION_FRAME. */
export function timer(delayMs, purpose, key) {
  if (delayMs < 0) return requestAnimationFrame(function () { fire(DISPATCH_ANIMATION_FRAME); }), 0;
  var id = setTimeout(function () { T.delete(id); fire(DISPATCH_TIMER, null, [purpose, key]); }, delayMs);
  T.add(id);
  return id;
}

export function clear(handle) { clearTimeout(handle); T.delete(handle); }

/** 256 random bytes (crypto.getRandomValues, Math.random where Web Crypto is missing). */
export function rand() {
  var bytes = new Uint8Array(256);
  try { crypto.getRandomValues(bytes); } catch (x) {
    for (var i = 0; i < 256; i++) bytes[i] = Math.random() * 256;
  }
  return bytes;
}

function cookie(key, value, age) {
  try { d.cookie = key + '=' + value + '; path=/; SameSite=Lax; max-age=' + age; } catch (x) {}
}

/**
 * localStorage, falling back to a cookie (STORE_SET_WITH_COOKIE) when it is unavailable.
 * op: STORE_GET, STORE_SET_WITH_COOKIE, STORE_SET_LOCAL (storage only), STORE_REMOVE (both).
 */
export function store(op, key, value) {
  var s = ls();
  try {
    if (s) {
      if (op == STORE_GET) return s.getItem(key);
      if (op < STORE_REMOVE) return s.setItem(key, value), null; // the two set operations
      s.removeItem(key);
    }
  } catch (x) {}
  if (op == STORE_GET) {
    var found = null;
    (d.cookie || '').split(';').forEach(function (pair) {
      pair = pair.trim();
      if (pair.indexOf(key + '=') == 0) found = found == null ? pair.slice(key.length + 1) : found;
    });
    return found;
  }
  if (op == STORE_SET_WITH_COOKIE) cookie(key, value, 31536000);
  if (op == STORE_REMOVE) cookie(key, '', 0);
  return null;
}

function ls() { try { return w.localStorage; } catch (x) {} }

// ---- The durable queue of undelivered batches (issue 8) ----
// IndexedDB database 'sightline', store 'q': autoIncrement keys (oldest first), values
// {b: bytes, n: length}. Where IndexedDB is missing or fails, and at page hide (only a
// synchronous write is sure to land before the page goes), localStorage records
// 'sl_b.<ms><random>' hold the bytes as a latin-1 string (in memory, `N`, when localStorage
// is unavailable too). Each store has a byte cap; the oldest records are evicted first and
// counted (localStorage 'sl_qe', console in debug mode). Every tab of the site shares the
// queue, one at a time drains it (Web Lock 'sightline-queue', else a 30 s lease 'sl_ql', the
// optional module js/modules/lease.js), and a record is deleted only when the wasm says it was
// delivered (or refused for good).
var db, Qcap, Qdebug, Qheld, Qrenew, Qcur, Qbody, N = {}, Qready = Promise.resolve();

function lsKeys() {
  var s = ls(), k = Object.keys(N);
  try { for (var i = 0; i < s.length; i++) k.push(s.key(i)); } catch (x) {}
  return k.filter(function (x) { return x.indexOf('sl_b.') == 0; }).sort();
}
function lsGet(k) { try { return k in N ? N[k] : ls().getItem(k); } catch (x) { return null; } }
function lsDel(k) { delete N[k]; try { ls().removeItem(k); } catch (x) {} }

/** Removes the oldest of `list` ([key, bytes], oldest first) until `add` more bytes fit. */
function evict(list, add, cap, remove) {
  var total = add, gone = 0, s = ls();
  list.forEach(function (r) { total += r[1]; });
  for (; total > cap && gone < list.length; gone++) total -= list[gone][1], remove(list[gone][0]);
  if (gone) {
    try { s.setItem('sl_qe', /** @type {*} */ (+s.getItem('sl_qe') + gone)); } catch (x) {}
    Qdebug && say(REPORT_QUEUE_EVICTED, gone);
  }
}

/** `nums(NUMS_EVICTED)`: the eviction count, read and reset (a batch reports it once; NaN reads as 0). */
function takeEvicted() {
  var s = ls(), n;
  try { n = +s.getItem('sl_qe'); s.removeItem('sl_qe'); } catch (x) {}
  return [n]; // EVICTED layout
}

function lsPut(bytes) {
  var v = String.fromCharCode.apply(null, bytes), k = 'sl_b.' + Date.now() + Math.random();
  evict(lsKeys().map(function (x) { return [x, (lsGet(x) || '').length]; }), v.length, Math.min(Qcap, 131072), lsDel);
  try { ls().setItem(k, v); } catch (x) { N[k] = v; }
}

function idbPut(bytes) {
  try {
    var t = db.transaction('q', 'readwrite'), st = t.objectStore('q'), keys = st.getAllKeys(), all = st.getAll();
    all.onsuccess = function () {
      evict(keys.result.map(function (k, i) { return [k, all.result[i].n]; }), bytes.length, Qcap,
        function (k) { st.delete(k); });
      st.add({ b: bytes, n: bytes.length });
    };
    t.onabort = function () { lsPut(bytes); }; // quota, closed database: localStorage instead
  } catch (x) { lsPut(bytes); }
}

/** Hands the oldest record (IndexedDB first, then localStorage) to the wasm: DISPATCH_QUEUE_BATCH. */
function oldest() {
  function done(key, bytes) {
    Qcur = key; Qbody = bytes;
    bytes || release();
    fire(DISPATCH_QUEUE_BATCH);
  }
  function fromLs() {
    var k = lsKeys()[0], v = k && lsGet(k);
    done(k, v == null ? null : Uint8Array.from(v, function (c) { return c.charCodeAt(0); }));
  }
  try {
    var r = db.transaction('q').objectStore('q').openCursor();
    r.onsuccess = function () { var c = r.result; c ? done(c.key, c.value.b) : fromLs(); };
    r.onerror = fromLs;
  } catch (x) { fromLs(); }
}

/**
 * Runs `then` holding the drain lock; when another tab holds it, tells the wasm "nothing".
 * The lock is the Web Lock 'sightline-queue'; without Web Locks (browsers before 2022,
 * insecure origins) a lease record, js/modules/lease.js, fetched only then (if it cannot load,
 * this tab drains without telling the others: at worst a batch goes twice, none is lost).
 */
function lock(then) {
  var n = nav.locks;
  function deny() { fire(DISPATCH_QUEUE_BATCH); }
  /** Held: `release` gives it back, `renew` (a lease) extends it while this tab drains. */
  function grant(release, renew) { Qheld = release; Qrenew = renew; then(); }
  Qbody = null;
  if (Qheld) return Qrenew && Qrenew(), then();
  if (n) try {
    return n.request('sightline-queue', { ifAvailable: true }, function (l) {
      // Held until `release` resolves the promise.
      return l ? new Promise(function (resolve) { grant(resolve); }) : deny();
    }).catch(deny);
  } catch (x) {} // e.g. SecurityError in an opaque origin: the lease
  optional(new URL('./sightline-lease.js', import.meta.url), function (m) { m.default(grant, deny); },
    function () { grant(function () {}); });
}

function release() { Qheld && Qheld(); Qheld = null; }

/**
 * The durable queue (see above). op: QUEUE_OPEN (`a` byte cap, `b` debug), QUEUE_PUT `body`
 * (`a` 1: the page is going away, write synchronously), QUEUE_NEXT hands out the oldest
 * record, DISPATCH_QUEUE_BATCH follows (`a` 1: first delete the one handed out before:
 * delivered), QUEUE_RELEASE the drain lock (the record stays), QUEUE_CLEAR deletes everything,
 * QUEUE_BODY returns the bytes handed out (null: empty, or another tab drains).
 */
export function queue(op, body, a, b) {
  // Never throws into the wasm (it cannot unwind): a failed write is a lost batch, not a stuck SDK.
  try {
    if (op == QUEUE_OPEN) {
      Qcap = a; Qdebug = b;
      // Drains wait for this (bounded: a blocked open falls back to localStorage after 3 s).
      Qready = new Promise(function (done) {
        try {
          var r = w.indexedDB.open('sightline', 1);
          r.onupgradeneeded = function () { r.result.createObjectStore('q', { autoIncrement: true }); };
          r.onsuccess = function () { db = r.result; done(); };
          r.onerror = /** @type {*} */ (done);
          setTimeout(done, 3e3);
        } catch (x) { done(); }
      });
    }
    // The bytes are a view into wasm memory: copy them before an async write.
    if (op == QUEUE_PUT) body = body.slice(), a || !db ? lsPut(body) : idbPut(body);
    if (op == QUEUE_NEXT) {
      if (a && Qcur != null) typeof Qcur == 'string' ? lsDel(Qcur) : idbDel(Qcur);
      Qcur = null;
      // Async: the answer, DISPATCH_QUEUE_BATCH, must not re-enter the current wasm call.
      Qready.then(function () { lock(oldest); });
    }
    if (op == QUEUE_RELEASE) release();
    if (op == QUEUE_CLEAR) {
      release();
      lsKeys().forEach(lsDel);
      try { db.transaction('q', 'readwrite').objectStore('q').clear(); } catch (x) {}
    }
    if (op == QUEUE_BODY) return Qbody;
  } catch (x) {}
}

function idbDel(k) { try { db.transaction('q', 'readwrite').objectStore('q').delete(k); } catch (x) {} }

/**
 * POSTs `body` as text/plain: sendBeacon (`beacon`, true when accepted) or fetch with
 * keepalive, whose outcome comes back as DISPATCH_DELIVERY with the Retry-After header as
 * target (DELIVERY layout).
 */
export function send(url, body, requestId, beacon) {
  try {
    var blob = new Blob([body], { type: 'text/plain' });
    if (beacon) return nav.sendBeacon(url, blob);
    // CORS is fetch's default mode for a URL.
    fetch(url, { method: 'POST', body: blob, credentials: 'omit', keepalive: true })
      .then(function (r) {
        var after = r.headers.get('retry-after');
        fire(DISPATCH_DELIVERY, after, [requestId, r.status, after ? Date.parse(after) - Date.now() : NaN]);
      // A network error is reported a task later: Chromium rejects a keepalive fetch still in
      // flight when the page is left (the request itself reached the collector) between two
      // pagehide listeners, and reported at once it would make the SDK's own pagehide handler
      // take the collector as failing and keep the open batch instead of sending it (lost on
      // cookieless and restricted pages, which have no durable queue).
      }, function () { setTimeout(fire, 0, DISPATCH_DELIVERY, null, [requestId, 0, NaN]); });
    return true;
  } catch (x) { return false; }
}

/**
 * A debug report (`boundary::report` code): its text comes from the optional module
 * js/modules/debug.js, fetched on the first report (only pages with `debug: true` report;
 * later imports are answered from the module map). A module that cannot load prints the code.
 */
export function log(code) { say(code); }

/** `log`, with a number after the text (`count`: the batches evicted). */
function say(code, count) {
  optional(new URL('./sightline-debug.js', import.meta.url),
    function (m) { console.error('sightline: ' + m.default[code] + (count ? ' ' + count : '')); },
    function () { console.error('sightline: report ' + code); });
}

function obj(v) { return v && typeof v == 'object' ? v : {}; }
function flag(v) { return typeof v == 'boolean' ? +v : NaN; }
function num(v) { return typeof v == 'number' ? v : NaN; }
function str(v) { return typeof v == 'string' ? v : SEP_MISSING; }
function list(v) { return Array.isArray(v) ? v.filter(function (x) { return typeof x == 'string'; }).join(SEP_RECORD) : SEP_MISSING; }

/**
 * `init` options flattened: returns the strings (CONFIG layout; SEP_MISSING = missing or not
 * a string; lists joined by SEP_RECORD) joined by SEP_FIELD, and leaves the numbers in `A`
 * (OPTION layout; NaN = missing).
 */
export function config(options) {
  var o = obj(options), a = obj(o.autocapture), b = obj(o.batch);
  // OPTION layout
  A = [flag(o.debug), flag(a.clicks), flag(a.scroll), flag(a.hovers), flag(a.ads),
    flag(a.elementText), num(a.hoverMs), num(b.maxEvents), num(b.maxBytes),
    num(b.flushIntervalMs), flag(o.respectDoNotTrack), num(o.sampleRate),
    num(obj(o.queue).maxBytes),
    privacy(o.consent) | (o.audience == 'minor' ? PRIVACY_MINOR : 0) |
      (o.respectGlobalPrivacyControl !== false && nav.globalPrivacyControl === true ? PRIVACY_GPC : 0)];
  // CONFIG layout
  return [str(o.collector), str(o.siteKey), str(o.adSelector),
    list(o.dataAttributes), list(o.queryAllowlist)].join(SEP_FIELD);
}

// @package-export consent
/**
 * `consent('granted' | 'denied' | 'pending')` for every purpose, or `consent({ measurement,
 * personalization, storage })`: parsed here, applied by the core from the next event
 * (DISPATCH_CONSENT). Never throws.
 */
function consent(state) { fire(DISPATCH_CONSENT, null, [privacy(state)]); }

// @package-export identify
/**
 * `identify(userId, traits, { minor: true })`: a known minor is restricted first
 * (DISPATCH_CONSENT), then the wasm's `__identify` (module-private in the glue) takes the id
 * and traits, which are then not sent. Never throws.
 */
function identify(userId, traits, options) {
  obj(options).minor === true && fire(DISPATCH_CONSENT, null, [PRIVACY_MINOR]);
  __identify(userId, traits);
}

/**
 * A given word of the core's privacy state (sdk-wasm/src/core/privacy.rs): for each purpose 2
 * bits (0 not given, 1 granted, 2 denied, 3 pending) from `consent`, a state for every purpose
 * or an object of them (PRIVACY_INVALID for a value that is no state; a consent that is neither
 * a string nor an object gives nothing, which `consent()` reports). PRIVACY_MINOR is added by
 * `config` (`audience: 'minor'`) and `identify` (`{ minor: true }`).
 */
function privacy(consent) {
  var n = 0;
  ['measurement', 'personalization', 'storage'].forEach(function (p, i) {
    var v = typeof consent == 'string' ? consent : obj(consent)[p], s = ['granted', 'denied', 'pending'].indexOf(v) + 1;
    n |= v != null && !s ? PRIVACY_INVALID : s << 2 * i;
  });
  return n;
}

/**
 * A plain object's string/number/boolean entries as "type key SEP_FIELD value" records
 * joined by SEP_RECORD (type: s, n, b); numbers also in `A` at the entry's index. null when
 * `object` is not an object (undefined/null give no entries).
 */
export function pairs(object, max) {
  A = [];
  if (object == null) return '';
  if (typeof object != 'object') return null;
  var out = [];
  Object.keys(object).slice(0, max).forEach(function (k) {
    var v = object[k], t = typeof v;
    if (t != 'string' && t != 'number' && t != 'boolean') return;
    A[out.length] = +v;
    out.push(t[0] + k + SEP_FIELD + v);
  });
  return out.join(SEP_RECORD);
}
