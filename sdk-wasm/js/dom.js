// The SDK's browser plumbing, hand-written so the wasm needs ~20 coarse imports instead of
// ~140 web-sys bindings. It only attaches listeners, reads a few numbers or strings per
// call and starts requests/timers; every decision (what to record, batching, encoding,
// sessions, selectors, viewability, consent, retries) is made in Rust. Every DOM event and
// timer reaches the wasm through one function, `on(kind, target)` (the wasm export
// `__dispatch`, see `start`); numbers travel in `A`, which the wasm reads with `nums(0)`.
// Nothing here throws into the host page.
var w = window, d = document, on = null, A = [], L = [], H = [], T = new Set(), io, mo, iv, S = [];

// Dispatch kinds (must match `web::dispatch::Kind` in Rust).
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
    fire(0, element(e.target), [e.pageX, e.pageY, e.clientX, e.clientY, e.button]);
  });
  listen(w, 'scroll', false, function () { fire(1); });
  listen(d, 'mouseover', true, function (e) { fire(2, element(e.target)); });
  listen(d, 'mouseout', true, function (e) { fire(3, e.relatedTarget); });
  listen(w, 'popstate', false, function () { fire(4); });
  listen(d, 'visibilitychange', false, function () { fire(6, null, [+d.hidden]); });
  // The drain lock is released with the page anyway (Web Locks); a lease record is not.
  listen(w, 'pagehide', false, function () { fire(7); release(); });
  listen(w, 'online', false, function () { fire(16); });
  listen(w, 'focus', false, function () { fire(8); });
  listen(w, 'blur', false, function () { fire(9); });
  var h = w.history;
  ['pushState', 'replaceState'].forEach(function (name) {
    var original = h[name];
    if (typeof original != 'function') return;
    h[name] = function () {
      // The host's own errors (e.g. a cross-origin URL) propagate unchanged.
      var result = original.apply(this, arguments);
      fire(5);
      return result;
    };
    H.push([name, original]);
  });
  iv = setInterval(function () { fire(10); }, intervalMs);
  if (ads) {
    try {
      io = new IntersectionObserver(function (entries) {
        var x = w.scrollX, y = w.scrollY, height = d.documentElement.scrollHeight;
        entries.forEach(function (e) {
          var b = e.boundingClientRect, r = e.rootBounds;
          fire(14, e.target, [e.time, e.intersectionRatio,
            io.trackVisibility === true ? +!!e.isVisible : -1,
            b.x, b.y, b.width, b.height, r ? r.width : 0, r ? r.height : 0, x, y, height]);
        });
      }, { threshold: [0, .1, .2, .25, .3, .4, .5, .6, .75, .8, .9, 1], trackVisibility: true, delay: 100 });
    } catch (e) {}
    try {
      mo = new MutationObserver(function () { fire(15); });
      mo.observe(d.documentElement, { childList: true, subtree: true });
    } catch (e) {}
  }
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

/** Numbers: 0 the current event's, 1 page metrics (one layout read), 2 page state, 3 the
 * durable queue's eviction count (read and reset). */
export function nums(which) {
  var s = /** @type {Screen} */ (w.screen || {}), n = w.navigator;
  return which == 3 ? takeEvicted()
    : which == 1 ? [w.innerWidth, w.innerHeight, s.width, s.height, w.devicePixelRatio || 1,
    -new Date().getTimezoneOffset(), d.documentElement.scrollHeight, w.scrollX, w.scrollY]
    : which ? [+(!d.hidden && (!d.hasFocus || d.hasFocus())),
      +(n.doNotTrack == '1' || n.globalPrivacyControl === true)] : A;
}

/** Wall clock (ms since the epoch) or, with `mono`, the monotonic clock. */
export function now(mono) {
  return mono && w.performance ? performance.now() : Date.now();
}

/** Strings of the page: 0 location, 1 referrer, 2 language. */
export function text(which) {
  return ['' + location.href, d.referrer, navigator.language || ''][which] || '';
}

/** About an element: 2 attribute `name`, 3 text, 4 href of the enclosing link. */
export function el(e, which, name) {
  try {
    if (which == 2) return e.getAttribute(name);
    if (which == 3) return e.textContent;
    var link = e.closest('a[href]');
    return link ? '' + link.href : null;
  } catch (x) { return null; }
}

/** Up to `depth` elements from `e` outwards as "TAG\u0000id\u0000class" joined by '\u0001'. */
export function path(e, depth) {
  for (var out = []; e && out.length < depth; e = e.parentElement)
    out.push(e.tagName + '\u0000' + e.id + '\u0000' + (e.getAttribute('class') || ''));
  return out.join('\u0001');
}

/** parentElement (`selector` empty) or `closest(selector)`. */
export function up(e, selector) {
  try { return (selector ? e.closest(selector) : e.parentElement) || null; } catch (x) { return null; }
}

/** `a.contains(b)`, or whether `a` is still in the document when `b` is null. */
export function has(a, b) {
  return b == null ? a.isConnected : a.contains(b);
}

/** Viewport rectangle and scroll offset: [x, y, width, height, scrollX, scrollY]. */
export function rect(e) {
  var r = e.getBoundingClientRect();
  return [r.x, r.y, r.width, r.height, w.scrollX, w.scrollY];
}

/** Elements matching `selector`, counted; read one by one with `item`. */
export function scan(selector) {
  try { S = /** @type {*} */ (d.querySelectorAll(selector)); } catch (x) { S = []; }
  return S.length;
}

export function item(i) { return S[i]; }

/** Starts (`on`) or stops measuring an ad slot. */
export function watch(e, observe) {
  io && (observe ? io.observe(e) : io.unobserve(e));
}

/** A timer firing `on(12)` with [purpose, key]; a negative delay means the next animation frame. */
export function timer(ms, purpose, key) {
  if (ms < 0) return requestAnimationFrame(function () { fire(11); }), 0;
  var id = setTimeout(function () { T.delete(id); fire(12, null, [purpose, key]); }, ms);
  T.add(id);
  return id;
}

export function clear(id) { clearTimeout(id); T.delete(id); }

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
 * localStorage, falling back to a cookie (op 1) when it is unavailable.
 * op: 0 get, 1 set (cookie fallback), 2 set (storage only), 3 remove (both).
 */
export function store(op, key, value) {
  var s = ls();
  try {
    if (s) {
      if (op == 0) return s.getItem(key);
      if (op < 3) return s.setItem(key, value), null;
      s.removeItem(key);
    }
  } catch (x) {}
  if (op == 0) {
    var found = null;
    (d.cookie || '').split(';').forEach(function (pair) {
      pair = pair.trim();
      if (pair.indexOf(key + '=') == 0) found = found == null ? pair.slice(key.length + 1) : found;
    });
    return found;
  }
  if (op == 1) cookie(key, value, 31536000);
  if (op == 3) cookie(key, '', 0);
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
// queue, one at a time drains it (Web Lock 'sightline-queue', else a 30 s lease 'sl_ql'), and
// a record is deleted only when the wasm says it was delivered (or refused for good).
var db, Qcap, Qdebug, Qheld, Qlease, Qcur, Qbody, N = {}, Qready = Promise.resolve();

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
    Qdebug && log('queue full, evicted ' + gone);
  }
}

/** `nums(3)`: the eviction count, read and reset (a batch reports it once; NaN reads as 0). */
function takeEvicted() {
  var s = ls(), n;
  try { n = +s.getItem('sl_qe'); s.removeItem('sl_qe'); } catch (x) {}
  return [n];
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

/** Hands the oldest record (IndexedDB first, then localStorage) to the wasm: on(17). */
function oldest() {
  function done(key, bytes) {
    Qcur = key; Qbody = bytes;
    bytes || release();
    fire(17);
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

/** Runs `then` holding the drain lock; when another tab holds it, tells the wasm "nothing". */
function lock(then) {
  var s = ls(), t = Date.now(), n = navigator.locks;
  Qbody = null;
  if (Qheld) {
    try { Qlease && s.setItem('sl_ql', /** @type {*} */ (t + 3e4)); } catch (x) {}
    return then();
  }
  if (n) try {
    return n.request('sightline-queue', { ifAvailable: true }, function (l) {
      if (!l) return fire(17);
      return new Promise(function (r) { Qheld = r; then(); });
    }).catch(function () { fire(17); });
  } catch (x) {} // e.g. SecurityError in an opaque origin: the lease below
  function take() {
    Qheld = function () { try { Qlease = 0; s.removeItem('sl_ql'); } catch (x) {} };
    then();
  }
  try {
    if (+s.getItem('sl_ql') > t) return fire(17);
    var mine = '' + (t + 3e4 + Math.random());
    s.setItem('sl_ql', mine);
    // Tabs that both saw no lease both wrote one: the last write wins once every tab sees it.
    return setTimeout(function () { s.getItem('sl_ql') == mine ? (Qlease = 1, take()) : fire(17); }, 50);
  } catch (x) {}
  take(); // no localStorage: nothing to share with other tabs
}

function release() { Qheld && Qheld(); Qheld = null; }

/**
 * The durable queue (see above). op: 0 open (`a` byte cap, `b` debug), 1 put `body` (`a` 1:
 * the page is going away, write synchronously), 2 hand out the oldest record, on(17) follows
 * (`a` 1: first delete the one handed out before: delivered), 3 release the drain lock (the
 * record stays), 4 delete everything, 5 the bytes handed out (null: empty, or another tab drains).
 */
export function queue(op, body, a, b) {
  // Never throws into the wasm (it cannot unwind): a failed write is a lost batch, not a stuck SDK.
  try {
    if (op == 0) {
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
    if (op == 1) body = body.slice(), a || !db ? lsPut(body) : idbPut(body);
    if (op == 2) {
      if (a && Qcur != null) typeof Qcur == 'string' ? lsDel(Qcur) : idbDel(Qcur);
      Qcur = null;
      // Async: the answer, on(17), must not re-enter the current wasm call.
      Qready.then(function () { lock(oldest); });
    }
    if (op == 3) release();
    if (op == 4) {
      release();
      lsKeys().forEach(lsDel);
      try { db.transaction('q', 'readwrite').objectStore('q').clear(); } catch (x) {}
    }
    if (op == 5) return Qbody;
  } catch (x) {}
}

function idbDel(k) { try { db.transaction('q', 'readwrite').objectStore('q').delete(k); } catch (x) {} }

/**
 * POSTs `body` as text/plain: sendBeacon (`beacon`, true when accepted) or fetch with
 * keepalive, whose outcome comes back as on(13, retryAfterHeader, [id, status or 0,
 * ms until an HTTP-date Retry-After]).
 */
export function send(url, body, id, beacon) {
  try {
    var blob = new Blob([body], { type: 'text/plain' });
    if (beacon) return navigator.sendBeacon(url, blob);
    fetch(url, { method: 'POST', body: blob, mode: 'cors', credentials: 'omit', keepalive: true })
      .then(function (r) {
        var after = r.headers.get('retry-after');
        fire(13, after, [id, r.status, after ? Date.parse(after) - Date.now() : NaN]);
      }, function () { fire(13, null, [id, 0, NaN]); });
    return true;
  } catch (x) { return false; }
}

export function log(message) { console.error('sightline:', message); }

function flag(v) { return typeof v == 'boolean' ? +v : NaN; }
function num(v) { return typeof v == 'number' ? v : NaN; }
function str(v) { return typeof v == 'string' ? v : '\u0002'; }
function list(v) { return Array.isArray(v) ? v.filter(function (x) { return typeof x == 'string'; }).join('\u0001') : '\u0002'; }

/**
 * `init` options flattened: returns the strings (collector, siteKey, consent, adSelector,
 * dataAttributes, queryAllowlist; '\u0002' = missing or not a string) joined by '\u0000',
 * and leaves the numbers in `A` (NaN = missing): debug, clicks, scroll, hovers, ads,
 * elementText, hoverMs, maxEvents, maxBytes, flushIntervalMs, respectDoNotTrack, sampleRate,
 * queue.maxBytes.
 */
export function config(o) {
  o = o && typeof o == 'object' ? o : {};
  var a = o.autocapture && typeof o.autocapture == 'object' ? o.autocapture : {};
  var b = o.batch && typeof o.batch == 'object' ? o.batch : {};
  A = [flag(o.debug), flag(a.clicks), flag(a.scroll), flag(a.hovers), flag(a.ads),
    flag(a.elementText), num(a.hoverMs), num(b.maxEvents), num(b.maxBytes),
    num(b.flushIntervalMs), flag(o.respectDoNotTrack), num(o.sampleRate),
    num(o.queue && o.queue.maxBytes)];
  return [str(o.collector), str(o.siteKey), str(o.consent), str(o.adSelector),
    list(o.dataAttributes), list(o.queryAllowlist)].join('\u0000');
}

/**
 * A plain object's string/number/boolean entries as "type key \u0000 value" records joined
 * by '\u0001' (type: s, n, b); numbers also in `A` at the entry's index. null when `o` is
 * not an object (undefined/null give no entries).
 */
export function pairs(o, max) {
  A = [];
  if (o == null) return '';
  if (typeof o != 'object') return null;
  var out = [];
  Object.keys(o).slice(0, max).forEach(function (k) {
    var v = o[k], t = typeof v;
    if (t != 'string' && t != 'number' && t != 'boolean') return;
    A[out.length] = +v;
    out.push(t[0] + k + '\u0000' + v);
  });
  return out.join('\u0001');
}
