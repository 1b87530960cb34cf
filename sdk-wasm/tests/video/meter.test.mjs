// The video module's measurement (js/modules/video.js `meter`) without a browser: every input
// carries its time, so each MRC video rule and each count is checked at exact moments.
// Run: node --test sdk-wasm/tests/video/ (scripts/test.sh does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meter, EVENT, RULE_MS, sizeClass, SIZE } from '../../js/modules/video.js';

/** A player at `fraction` in view, `w`×`h` px, audible unless `muted`, duration `dur` s. */
function player({ fraction = 1, w = 640, h = 360, muted = false, dur = 8 } = {}) {
  const m = meter(0);
  m.view(0, fraction, w, h);
  m.audio(0, muted, 1);
  m.time(0, 0, dur);
  return m;
}

/** Plays from media time `from` to `to` (s), wall clock starting at `at` (ms), timeupdate every 250 ms. */
function play(m, at, from, to) {
  const events = [];
  for (let t = from + 0.25; t <= to + 1e-9; t += 0.25) {
    events.push(...m.time(at + (t - from) * 1000, t, m.dur / 1000));
  }
  return events;
}

test('played fully in view and unmuted: every quartile, viewable after 2 s, AVOC', () => {
  const m = player();
  assert.deepEqual(m.play(0), [EVENT.START]);
  const events = play(m, 0, 0, 8);
  events.push(...m.end(8000));
  // At 2 s the rule is met (time accrues first) and a quarter of the 8 s is played.
  assert.deepEqual(events, [EVENT.VIEWABLE, EVENT.FIRST_QUARTILE, EVENT.MIDPOINT, EVENT.THIRD_QUARTILE, EVENT.COMPLETE]);
  assert.equal(m.ttv, 2000);
  assert.equal(m.q, 0b11111);
  assert.equal(m.aq, 0b11111);
  assert.ok(m.avoc);
  assert.equal(m.played, 8000);
  assert.equal(m.inPlay, 8000);
  assert.equal(m.maxRun, 8000);
});

test('viewable exactly when 2 continuous seconds are reached (the timer due)', () => {
  const m = player();
  m.play(0);
  assert.equal(m.due(), RULE_MS);
  assert.deepEqual(m.tick(1999), []);
  assert.deepEqual(m.tick(2000), [EVENT.VIEWABLE]);
  assert.equal(m.due(), -1, 'no timer once viewable');
});

test('scrolled out at 1.5 s and back at 2.5 s: viewable only 2 s later, at 4.5 s', () => {
  const m = player();
  m.play(0);
  play(m, 0, 0, 1.5);
  assert.deepEqual(m.view(1500, 0.2, 640, 360), []);
  assert.equal(m.due(), -1, 'out of view: not counting');
  play(m, 1500, 1.5, 2.5);
  assert.deepEqual(m.view(2500, 1, 640, 360), []);
  assert.equal(m.due(), RULE_MS, 'a new continuous run starts');
  assert.deepEqual(m.tick(4499), []);
  assert.deepEqual(m.tick(4500), [EVENT.VIEWABLE]);
  assert.equal(m.ttv, 4500);
  assert.equal(m.inPlay, 1500 + 2000);
  assert.equal(m.maxRun, 2000);
});

test('paused at 1 s in view for 5 s: no viewable time while paused; viewable after 2 s more of playback', () => {
  const m = player();
  m.play(0);
  play(m, 0, 0, 1);
  assert.deepEqual(m.pause(1000), []);
  assert.deepEqual(m.tick(6000), [], 'five paused seconds in view do not count');
  assert.equal(m.inPlay, 1000);
  assert.equal(m.inView, 6000, 'in view in total, playing or not');
  m.play(6000);
  assert.equal(m.due(), RULE_MS, 'the pause broke the continuous run');
  assert.deepEqual(m.tick(8000), [EVENT.VIEWABLE]);
  assert.equal(m.pauses, 1);
  assert.equal(m.resumes, 1);
});

test('muted throughout: viewable, never audible, no AVOC', () => {
  const m = player({ muted: true, dur: 4 });
  m.play(0);
  const events = play(m, 0, 0, 4).concat(m.end(4000));
  assert.ok(events.includes(EVENT.VIEWABLE));
  assert.ok(events.includes(EVENT.COMPLETE));
  assert.equal(m.aq, 0);
  assert.equal(m.avoc, false);
  assert.equal(m.mutes, 0, 'muted from the start is not a mute action');
});

test('mute and unmute during playback are counted; audible state per quartile', () => {
  const m = player({ dur: 4 });
  m.play(0);
  play(m, 0, 0, 0.75);
  m.audio(750, true, 1); // muted before the first quartile
  play(m, 750, 0.75, 1.5);
  m.audio(1500, false, 0.5); // unmuted before the midpoint
  play(m, 1500, 1.5, 2.5);
  m.audio(2500, false, 0); // volume 0 counts as a mute
  play(m, 2500, 2.5, 4);
  m.end(4000);
  assert.equal(m.aq, 0b00101, 'audible at start and midpoint only');
  assert.equal(m.mutes, 2);
  assert.equal(m.unmutes, 1);
  assert.equal(m.avoc, false);
});

test('tab hidden mid-play: time stops, the continuous run restarts', () => {
  const m = player();
  m.play(0);
  play(m, 0, 0, 1);
  m.activity(1000, false);
  play(m, 1000, 1, 3); // keeps playing in the background
  assert.equal(m.inPlay, 1000);
  assert.equal(m.viewable, false);
  m.activity(3000, true);
  assert.deepEqual(m.tick(5000), [EVENT.VIEWABLE]);
  assert.equal(m.inPlay, 3000);
  assert.equal(m.inView, 3000);
});

test('a large player (>= 242,500 px²) at 35 % in view is viewable by the 30 % rule; a small one is not', () => {
  const large = player({ fraction: 0.35, w: 970, h: 546 });
  assert.ok(large.large());
  large.play(0);
  assert.deepEqual(large.tick(2000), [EVENT.VIEWABLE]);
  const small = player({ fraction: 0.35, w: 640, h: 360 });
  small.play(0);
  assert.deepEqual(small.tick(5000), []);
  assert.equal(small.inView, 0);
  assert.equal(sizeClass(970), SIZE.LARGE);
  assert.equal(sizeClass(640), SIZE.LARGE);
  assert.equal(sizeClass(639), SIZE.MEDIUM);
  assert.equal(sizeClass(400), SIZE.MEDIUM);
  assert.equal(sizeClass(399), SIZE.SMALL);
  assert.equal(sizeClass(0), 0);
});

test('seeking to the end gives no false quartiles and no complete', () => {
  const m = player();
  m.play(0);
  play(m, 0, 0, 1);
  m.seeking(1000);
  const events = m.time(1050, 8, 8).concat(m.end(1060));
  assert.deepEqual(events, []);
  assert.equal(m.q, 0b00001, 'start only');
  assert.equal(m.played, 1000);
});

test('a jump without a seeking event (page API) is not playback either', () => {
  const m = player();
  m.play(0);
  m.time(250, 0.25, 8);
  assert.deepEqual(m.time(500, 7.9, 8), [], 'moved 7.65 s in 0.25 s');
  assert.equal(m.played, 250);
  // Infrequent reports still count when the position moved at playback speed (2 s in 2 s);
  // the 2.5 continuous seconds in view met the rule on the way.
  assert.deepEqual(m.time(2500, 9.9, 12), [EVENT.VIEWABLE]);
  assert.equal(m.played, 2250);
});

test('buffering (waiting) accrues no viewable time', () => {
  const m = player();
  m.play(0);
  m.wait(500);
  assert.equal(m.due(), -1);
  assert.deepEqual(m.tick(4000), []);
  assert.equal(m.inPlay, 500);
  m.play(4000);
  assert.equal(m.resumes, 0, 'the end of buffering is not a resume');
  assert.deepEqual(m.tick(6000), [EVENT.VIEWABLE]);
});

test('FINAL once; later inputs are ignored; fullscreen sticks', () => {
  const m = player();
  m.play(0);
  m.fullscreen(100, true);
  m.fullscreen(200, false);
  assert.equal(m.full, true);
  assert.deepEqual(m.finish(1000), [EVENT.FINAL]);
  assert.deepEqual(m.finish(2000), []);
  assert.deepEqual(m.tick(9000), []);
  assert.equal(m.inPlay, 1000);
});

test('measurement that begins late: START at once, the browser-reported played time counts, earlier time in view does not', () => {
  const m = player({ dur: 8 });
  assert.deepEqual(m.began(500, 2500, true), [EVENT.START, EVENT.FIRST_QUARTILE]);
  assert.equal(m.played, 2500);
  assert.equal(m.inPlay, 0);
  assert.equal(m.due(), RULE_MS, 'the 2 continuous seconds start now');
  assert.deepEqual(m.play(600), [], 'a later playing event is no second START');
});
