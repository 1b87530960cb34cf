// The SDK's browser plumbing, hand-written so the wasm needs ~20 coarse imports instead of
// ~140 web-sys bindings. It only attaches listeners, reads a few numbers or strings per
// call and starts requests/timers; every decision (what to record, batching, encoding,
// sessions, selectors, viewability, consent, retries) is made in Rust. Every DOM event and
// timer reaches the wasm through one function, `on(kind, target)`; numbers travel in `A`,
// which the wasm reads with `nums(0)`. Nothing here throws into the host page.
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
export function start(callback, intervalMs, ads) {
  on = callback;
  listen(d, 'click', true, function (e) {
    fire(0, element(e.target), [e.pageX, e.pageY, e.clientX, e.clientY, e.button]);
  });
  listen(w, 'scroll', false, function () { fire(1); });
  listen(d, 'mouseover', true, function (e) { fire(2, element(e.target)); });
  listen(d, 'mouseout', true, function (e) { fire(3, e.relatedTarget); });
  listen(w, 'popstate', false, function () { fire(4); });
  listen(d, 'visibilitychange', false, function () { fire(6, null, [+d.hidden]); });
  listen(w, 'pagehide', false, function () { fire(7); });
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

/** Numbers: 0 the current event's, 1 page metrics (one layout read), 2 page state. */
export function nums(which) {
  var s = w.screen || {}, n = w.navigator;
  return which == 1 ? [w.innerWidth, w.innerHeight, s.width, s.height, w.devicePixelRatio || 1,
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
  try { S = d.querySelectorAll(selector); } catch (x) { S = []; }
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
 * op: 0 get, 1 set (cookie fallback), 2 set (storage only), 3 remove (both), 4 remove
 * (storage only), 5 remove and return every value whose key starts with `key` (joined by ',').
 */
export function store(op, key, value) {
  var s = null;
  try { s = w.localStorage; } catch (x) {}
  try {
    if (op == 5) {
      var keys = [], values = [];
      for (var i = 0; s && i < s.length; i++) if (s.key(i).indexOf(key) == 0) keys.push(s.key(i));
      keys.forEach(function (k) { values.push(s.getItem(k)); s.removeItem(k); });
      return values.join(',');
    }
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
 * elementText, hoverMs, maxEvents, maxBytes, flushIntervalMs, respectDoNotTrack, sampleRate.
 */
export function config(o) {
  o = o && typeof o == 'object' ? o : {};
  var a = o.autocapture && typeof o.autocapture == 'object' ? o.autocapture : {};
  var b = o.batch && typeof o.batch == 'object' ? o.batch : {};
  A = [flag(o.debug), flag(a.clicks), flag(a.scroll), flag(a.hovers), flag(a.ads),
    flag(a.elementText), num(a.hoverMs), num(b.maxEvents), num(b.maxBytes),
    num(b.flushIntervalMs), flag(o.respectDoNotTrack), num(o.sampleRate)];
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
