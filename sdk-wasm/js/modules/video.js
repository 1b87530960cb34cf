// Optional module: video ad measurement (issue 20) — quartiles by media time actually played,
// the MRC video viewability rule, audibility, AVOC, time in view, player size, fullscreen and
// pause/resume/mute/unmute counts. js/dom.js fetches it (sightline-video.js) only when an ad
// slot scan finds a video slot (a `<video>`, one inside, or `data-ad-format="video"`) or the
// page calls `adVideo(slot, state)`, so pages without video ads do not download it.
//
// It measures here, in JS, and encodes each `sightline.v1.AdVideo` message itself (protobuf
// by hand, as core::wire does in Rust; sdk-wasm/tests/video_wire.rs proves the bytes equal to
// prost's). The core only frames the message: `fire(DISPATCH_AD_VIDEO, null, bytes)` makes it
// `Event.ad_video` with the core's event id, time, sequence number and page view, behind the
// core's consent and opt-out checks. The measurement itself (`meter`) is pure — every input
// carries its time — and is unit-tested under node with injected time (tests/video/).
// @boundary dispatch
// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run
// SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary
var DISPATCH_CLICK = 0, DISPATCH_SCROLL = 1, DISPATCH_MOUSE_OVER = 2, DISPATCH_MOUSE_OUT = 3,
    DISPATCH_POP_STATE = 4, DISPATCH_PUSH_STATE = 5, DISPATCH_VISIBILITY = 6,
    DISPATCH_PAGE_HIDE = 7, DISPATCH_FOCUS = 8, DISPATCH_BLUR = 9, DISPATCH_FLUSH_INTERVAL = 10,
    DISPATCH_ANIMATION_FRAME = 11, DISPATCH_TIMER = 12, DISPATCH_DELIVERY = 13,
    DISPATCH_INTERSECTION = 14, DISPATCH_MUTATION = 15, DISPATCH_QUEUE_READY = 16,
    DISPATCH_QUEUE_BATCH = 17, DISPATCH_TCF = 18, DISPATCH_AD_VIDEO = 19, DISPATCH_CONSENT = 20;
// @end boundary

// `sightline.v1` enum values (sdk-wasm/tests/video_wire.rs checks them against prost).
export var EVENT = { START: 1, FIRST_QUARTILE: 2, MIDPOINT: 3, THIRD_QUARTILE: 4, COMPLETE: 5, VIEWABLE: 6, FINAL: 7 };
export var RULE = { VIDEO_50: 3, VIDEO_LARGE_30: 4 };
export var SIZE = { SMALL: 1, MEDIUM: 2, LARGE: 3 };
export var SOURCE = { ELEMENT: 1, PAGE_API: 2 };

// The MRC video rule (MRC Viewable Ad Impression Measurement Guidelines, video): 50 % of the
// pixels in view for 2 continuous seconds of playback; 30 % for players of 242,500 px² and more.
export var RULE_MS = 2000, LARGE_AREA = 242500;
// "complete" needs this share of the duration actually played (timeupdate comes every
// 15–250 ms, so the last moments before `ended` may fall between two updates).
export var COMPLETE_SHARE = 0.95;
// A media position that moved further than this many times the wall time since the last update
// (plus slack for a late update) is a seek, not playback: playbackRate up to 2 still counts.
var MAX_SPEED = 2, SLACK_MS = 300;

/**
 * One video impression's measurement: feed it inputs (each with `now`, ms on a monotonic
 * clock); each returns the events it caused (EVENT values), whose messages the caller encodes
 * from the meter's fields right away (`encode`). Bits of `q`/`aq`: 0 start, 1–3 quartiles, 4
 * complete.
 */
export function meter(now) {
  var m = {
    // What the messages carry.
    aud: false, viewable: false, avoc: false, played: 0, dur: 0, inPlay: 0, inView: 0,
    maxRun: 0, max: 0, w: 0, h: 0, full: false, pauses: 0, resumes: 0, mutes: 0, unmutes: 0,
    ttv: 0, q: 0, aq: 0,
    // The inputs' state.
    playing: false, waiting: false, paused: false, ended: false, frac: 0, active: true,
    heard: false, t: -1, at: now, seek: false, last: now, start: -1, run: 0, done: false,
  };
  var out = [];
  function large() { return m.w * m.h >= LARGE_AREA; }
  function inView() { return m.active && m.w > 0 && m.frac >= (large() ? 0.3 : 0.5); }
  function counting() { return inView() && m.playing && !m.waiting; }
  function emit(event) { out.push(event); }
  /** Time since the last input accrues under the conditions that held during it. */
  function advance(now) {
    var dt = Math.max(0, now - m.last);
    m.last = now;
    if (inView()) m.inView += dt;
    if (counting()) {
      m.inPlay += dt; m.run += dt;
      if (m.run > m.maxRun) m.maxRun = m.run;
      if (!m.viewable && m.run >= RULE_MS) {
        m.viewable = true; m.ttv = Math.max(0, now - m.start); emit(EVENT.VIEWABLE);
      }
    }
  }
  /** Applies `change` at `now`; a break in the conditions ends the continuous run. */
  function input(now, change) {
    out = [];
    if (m.done) return out;
    advance(now);
    change();
    if (!counting()) m.run = 0;
    return out;
  }
  function reach(bit, event) {
    if (m.q & (1 << bit)) return;
    m.q |= 1 << bit;
    if (m.aud) m.aq |= 1 << bit;
    emit(event);
  }
  m.large = large;
  m.inViewNow = inView;
  /** `playing`: playback (re)started. */
  m.play = function (now) {
    return input(now, function () {
      if (m.start < 0) m.start = now, reach(0, EVENT.START);
      else if (m.paused) m.resumes++;
      m.playing = true; m.waiting = m.paused = m.ended = false;
    });
  };
  /** `pause` (not the one at the end of the media). */
  m.pause = function (now) {
    return input(now, function () {
      if (m.playing && !m.ended) m.pauses++, m.paused = true;
      m.playing = false;
    });
  };
  /** `waiting`: stalled or buffering; no viewable time until `playing` again. */
  m.wait = function (now) { return input(now, function () { m.waiting = true; }); };
  /** `seeking`: the next position is a jump, not playback. */
  m.seeking = function (now) { return input(now, function () { m.seek = true; }); };
  /** The media position `t` and `duration` (seconds; NaN/Infinity while unknown). */
  m.time = function (now, t, duration) {
    return input(now, function () {
      if (duration > 0 && duration < Infinity) m.dur = duration * 1000;
      if (!(t >= 0)) return;
      var moved = (t - m.t) * 1000;
      if (m.t >= 0 && !m.seek && moved > 0 && moved <= (now - m.at) * MAX_SPEED + SLACK_MS) m.played += moved;
      m.t = t; m.at = now; m.seek = false;
      quartiles();
    });
  };
  function quartiles() {
    if (m.dur > 0 && m.start >= 0) {
      if (m.played >= m.dur / 4) reach(1, EVENT.FIRST_QUARTILE);
      if (m.played >= m.dur / 2) reach(2, EVENT.MIDPOINT);
      if (m.played >= m.dur * 3 / 4) reach(3, EVENT.THIRD_QUARTILE);
    }
  }
  /**
   * Measurement began after playback did (the module loaded late): `playedMs` of media the
   * browser reports as played (`HTMLMediaElement.played`, unduplicated) count; the time in view
   * before now is unknown and not counted.
   */
  m.began = function (now, playedMs, playing) {
    return input(now, function () {
      m.played = Math.max(m.played, playedMs);
      if (m.start < 0) m.start = now, reach(0, EVENT.START);
      m.playing = playing;
      quartiles();
    });
  };
  /** `ended` (after the last `time`). */
  m.end = function (now) {
    return input(now, function () {
      m.playing = false; m.ended = true;
      if (m.start >= 0 && m.dur > 0 && m.played >= m.dur * COMPLETE_SHARE && !(m.q & 16)) {
        m.avoc = m.aud && inView();
        reach(4, EVENT.COMPLETE);
      }
    });
  };
  /** `volumechange` (and the initial state): audible = not muted and volume > 0. */
  m.audio = function (now, muted, volume) {
    return input(now, function () {
      var audible = !muted && volume > 0;
      if (m.heard && audible != m.aud) audible ? m.unmutes++ : m.mutes++;
      m.aud = audible; m.heard = true;
    });
  };
  /** IntersectionObserver: the fraction of the player in view and its size (CSS px). */
  m.view = function (now, fraction, width, height) {
    return input(now, function () {
      // The size (and with it the rule) is the player's when first measured.
      if (!m.w && width * height > 0) m.w = Math.round(width), m.h = Math.round(height);
      m.frac = fraction > 0 ? fraction : 0;
      if (m.frac > m.max) m.max = m.frac;
    });
  };
  /** Tab visible and page focused. */
  m.activity = function (now, active) { return input(now, function () { m.active = active; }); };
  m.fullscreen = function (now, on) { return input(now, function () { m.full = m.full || on; }); };
  /** A timer at `due()`: accrues time, may make the impression viewable. */
  m.tick = function (now) { return input(now, function () {}); };
  /** ms until the rule would be met if nothing changes; -1 when it is not counting. */
  m.due = function () { return !m.viewable && counting() ? RULE_MS - m.run : -1; };
  /** The impression ends (page hide, slot removed): FINAL, once; later inputs are ignored. */
  m.finish = function (now) {
    var events = input(now, function () { emit(EVENT.FINAL); });
    m.done = true;
    return events;
  };
  return m;
}

/** IAB/MRC player size buckets by width: small < 400 px, medium 400–639, large ≥ 640. */
export function sizeClass(width) {
  return !(width > 0) ? 0 : width < 400 ? SIZE.SMALL : width < 640 ? SIZE.MEDIUM : SIZE.LARGE;
}

// ---- protobuf (proto3 rules as core::wire: defaults omitted, fields in number order) ----

function varint(out, v) {
  for (; v >= 128; v = Math.floor(v / 128)) out.push(v % 128 + 128);
  out.push(v);
}
/** uint32 of a non-negative number (ms, counts): rounded, capped; omitted when 0. */
function uint(out, field, v) {
  v = Math.min(Math.max(Math.round(+v || 0), 0), 4294967295);
  if (v) varint(out, field * 8), varint(out, v);
}
function len(out, field, bytes) {
  varint(out, field * 8 + 2); varint(out, bytes.length);
  for (var i = 0; i < bytes.length; i++) out.push(bytes[i]);
}
function str(out, field, s) {
  if (s) len(out, field, new TextEncoder().encode(('' + s).slice(0, 256)));
}
function float(out, field, v) {
  if (!v) return;
  var b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  varint(out, field * 8 + 5);
  for (var i = 0; i < 4; i++) out.push(b[i]);
}

/**
 * The `AdVideo` message for `event` of impression `r`: `r.ad` the slot's ids ({slot, creative,
 * campaign, placement}), `r.id` the 16-byte impression id, `r.source`, `r.m` its meter.
 */
export function encode(r, event) {
  var m = r.m, a = r.ad, out = [], ad = [];
  str(ad, 1, a.slot); str(ad, 2, a.creative); str(ad, 3, a.campaign); str(ad, 4, a.placement);
  uint(ad, 5, m.w); uint(ad, 6, m.h);
  len(out, 1, ad);
  if (r.id.length) len(out, 2, r.id);
  uint(out, 3, event);
  uint(out, 4, +m.aud); uint(out, 5, +m.viewable); uint(out, 6, +m.avoc);
  uint(out, 7, m.played); uint(out, 8, m.dur); uint(out, 9, m.inPlay); uint(out, 10, m.inView);
  uint(out, 11, m.maxRun); float(out, 12, m.max); uint(out, 13, sizeClass(m.w));
  uint(out, 14, +m.full); uint(out, 15, m.pauses); uint(out, 16, m.resumes);
  uint(out, 17, m.mutes); uint(out, 18, m.unmutes);
  uint(out, 19, m.w ? m.large() ? RULE.VIDEO_LARGE_30 : RULE.VIDEO_50 : 0);
  uint(out, 20, +(m.w > 0)); uint(out, 21, m.ttv); uint(out, 22, m.q); uint(out, 23, m.aq);
  uint(out, 24, r.source);
  return out;
}

// ---- the page: video elements, the page API, geometry, tab state ----

/**
 * Called by js/dom.js once loaded, with its `fire(kind, target, numbers)` and the calls queued
 * while loading; returns what js/dom.js keeps calling: `push([slot])` for each video slot an
 * ad-slot scan finds, `push([slot, state])` for `adVideo`. Nothing here throws.
 */
export default function (fire, queued) {
  var w = window, d = document, records = [], io, clock = function () { return performance.now(); };

  function active() { return !d.hidden && (!d.hasFocus || d.hasFocus()); }
  function attr(e, name) { return e && e.getAttribute ? e.getAttribute(name) || '' : ''; }
  function send(r, events) {
    events.forEach(function (event) { fire(DISPATCH_AD_VIDEO, null, encode(r, event)); });
    // Re-arm the timer that meets the rule on time when nothing else happens.
    clearTimeout(r.timer);
    var due = r.m.due();
    if (due >= 0) r.timer = setTimeout(function () { send(r, r.m.tick(clock())); }, due + 1);
  }
  function each(f) { records.forEach(function (r) { try { f(r); } catch (x) {} }); }

  try {
    io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        each(function (r) {
          if (r.el == e.target) send(r, r.m.view(clock(), e.intersectionRatio, e.boundingClientRect.width, e.boundingClientRect.height));
        });
      });
    }, { threshold: [0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.75, 0.9, 1] });
  } catch (x) {}

  /** A record for the slot `slot` (element) measured on `el`, or the existing one. */
  function track(slot, el, source, key) {
    for (var i = 0; i < records.length; i++) if (records[i].key == key) return records[i];
    var id = new Uint8Array(16), now = clock();
    try { crypto.getRandomValues(id); } catch (x) { for (var j = 0; j < 16; j++) id[j] = Math.random() * 256; }
    var r = {
      key: key, slot: slot, el: el, source: source, id: id, m: meter(now),
      ad: { slot: attr(slot, 'data-ad-slot') || (typeof key == 'string' ? key : ''), creative: attr(slot, 'data-ad-creative'),
        campaign: attr(slot, 'data-ad-campaign'), placement: attr(slot, 'data-ad-placement') },
    };
    records.push(r);
    r.m.activity(now, active());
    el && io && io.observe(el);
    return r;
  }

  /** A `<video>` in an ad slot: its own media events. */
  function media(slot, v) {
    var r = track(slot, v, SOURCE.ELEMENT, v);
    if (r.listening) return;
    r.listening = true;
    function on(name, f) { v.addEventListener(name, function () { try { send(r, f(clock())); } catch (x) {} }); }
    on('playing', function (now) { return r.m.play(now); });
    // The `pause` that comes with the end of the media is not a pause action.
    on('pause', function (now) { return v.ended ? [] : r.m.pause(now); });
    on('waiting', function (now) { return r.m.wait(now); });
    on('seeking', function (now) { return r.m.seeking(now); });
    on('timeupdate', function (now) { return r.m.time(now, v.currentTime, v.duration); });
    on('durationchange', function (now) { return r.m.time(now, NaN, v.duration); });
    on('ended', function (now) { return r.m.time(now, v.currentTime, v.duration).concat(r.m.end(now)); });
    on('volumechange', function (now) { return r.m.audio(now, v.muted, v.volume); });
    var now = clock(), played = 0, ranges = v.played;
    send(r, r.m.audio(now, v.muted, v.volume).concat(r.m.time(now, v.currentTime, v.duration)));
    // Autoplay may have begun before this module loaded.
    for (var i = 0; ranges && i < ranges.length; i++) played += ranges.end(i) - ranges.start(i);
    if (played > 0 || !v.paused) send(r, r.m.began(now, played * 1000, !v.paused));
  }

  /** `adVideo(slot, state)`: slot element or `data-ad-slot` id; state from the page's player. */
  function api(slot, o) {
    if (!o || typeof o != 'object') return;
    var el = typeof slot == 'string' ? d.querySelector('[data-ad-slot="' + slot.replace(/["\\]/g, '\\$&') + '"]') : slot;
    if (el && el.nodeType != 1) return;
    var r = track(el, el, SOURCE.PAGE_API, typeof slot == 'string' ? slot : el), m = r.m, now = clock();
    var state = '' + o.state, events = m.audio(now, o.muted === true, typeof o.volume == 'number' ? o.volume : 1)
      .concat(m.time(now, +o.currentTime, +o.duration));
    if (o.fullscreen === true) events = events.concat(m.fullscreen(now, true));
    events = events.concat(state == 'playing' ? m.play(now) : state == 'paused' ? m.pause(now)
      : state == 'waiting' ? m.wait(now) : state == 'ended' ? m.end(now) : []);
    send(r, events);
  }

  /** A video slot found by the core's ad-slot scan (again at every scan): measured once. */
  function found(slot) {
    var v = slot.matches('video') ? slot : slot.querySelector('video');
    v && media(slot, v);
    sweep();
  }

  /** Players no longer in the document end their impression (FINAL). */
  function sweep() {
    records = records.filter(function (r) {
      if (!r.el || r.el.isConnected) return true;
      try { finish(r); } catch (x) {}
    });
  }
  try {
    new MutationObserver(sweep).observe(d.documentElement, { childList: true, subtree: true });
  } catch (x) {}

  function finish(r) {
    clearTimeout(r.timer);
    io && r.el && io.unobserve(r.el);
    send(r, r.m.finish(clock()));
  }

  function activity() { var a = active(); each(function (r) { send(r, r.m.activity(clock(), a)); }); }
  ['focus', 'blur'].forEach(function (name) { w.addEventListener(name, activity); });
  d.addEventListener('visibilitychange', activity);
  d.addEventListener('fullscreenchange', function () {
    var f = d.fullscreenElement;
    each(function (r) { f && r.el && (f == r.el || f.contains(r.el)) && send(r, r.m.fullscreen(clock(), true)); });
  });
  // FINALs must be recorded before the core's own pagehide listener (registered first, so it
  // runs first) sends the page's last batch: `beforeunload` comes before `pagehide` when the
  // page is left. Where it does not fire (iOS Safari, a bfcache-only hide), `pagehide` records
  // them and asks for a flush as the flush interval does (fetch with keepalive, which
  // outlives the page; it may be held back while a request is in flight, then the next page
  // load of the site delivers it from the durable queue). `finish` is once per impression.
  w.addEventListener('beforeunload', function () { each(finish); });
  w.addEventListener('pagehide', function () {
    var open = records.some(function (r) { return !r.m.done; });
    each(finish);
    open && fire(DISPATCH_FLUSH_INTERVAL);
  });

  var self = {
    push: function (call) {
      try { call.length == 1 ? found(call[0]) : api(call[0], call[1]); } catch (x) {}
    },
  };
  queued.forEach(self.push);
  return self;
}
