// Video ad slots (issue 20): a pre-roll before a course's preview video and an autoplaying
// in-feed video ad in the search results. They are marked up exactly as a publisher marks up a
// video slot for Sightline (sdk-wasm/README.md, "Video ads"): the ad slot's data attributes plus
// `data-ad-format="video"` around a `<video>`. The SDK's ad-slot scan finds them, fetches its
// video module and measures quartiles, MRC video viewability, audibility and time in view from
// the element's own events; nothing here calls the SDK. The files come from
// scripts/demo-videos.sh, served under /media/ by the demo server.
//
// Kept apart from ads.js (display slots, rendered from the decision service on another branch).
import { campaignFor } from './data.js';
import { escapeHtml } from './html.js';

// The in-feed player plays while at least this share of it is in view (and pauses below): the
// usual in-feed autoplay rule, the same share the MRC video rule counts.
const IN_FEED_PLAY_SHARE = 0.5;

function videoSlot(slotId, placement, inner, extraClass) {
  const ad = campaignFor(slotId);
  return `<div class="video-ad ${extraClass}" data-ad-format="video" data-ad-slot="${escapeHtml(slotId)}"
      data-ad-creative="${ad.creative}-video" data-ad-campaign="${ad.campaign}" data-ad-placement="${placement}">
    <span class="ad-label">Sponsored · ${escapeHtml(ad.headline)}</span>
    ${inner}
  </div>`;
}

/**
 * The course preview with its pre-roll: the ad plays first (on the visitor's click, so with
 * sound), then the preview. The play button lies over the player, as a player's own does, so
 * the click that starts the ad never scrolls the ad away.
 */
export function coursePreview(course) {
  const video = '<video id="preroll-video" src="/media/preroll-ad.webm" playsinline preload="auto" width="640" height="360"></video>';
  return `<section class="course-preview" id="course-preview">
    ${videoSlot(`course-${course.id}-preroll`, 'preroll', video, 'video-preroll')}
    <video id="course-preview-video" class="course-preview-video" src="/media/course-preview.webm" playsinline controls preload="none" width="640" height="360" hidden></video>
    <button id="preview-button" class="primary preview-button" type="button">▶ Watch the course preview</button>
  </section>`;
}

/** The in-feed video ad between search results: muted autoplay while in view, sound on a tap. */
export function inFeedVideoAd(slotId) {
  const video = '<video id="in-feed-video" src="/media/in-feed-ad.webm" muted playsinline preload="auto" width="640" height="360"></video>';
  return `<li class="result-ad result-video-ad">${videoSlot(slotId, 'in_feed_video',
    `${video}<button id="in-feed-sound" class="video-sound" type="button">🔇 Tap for sound</button>`, 'video-in-feed')}</li>`;
}

let inFeedObserver = null;

/** Wires the players of a freshly rendered view (called after every render of `root`). */
export function mountVideoAds(root) {
  inFeedObserver?.disconnect();
  inFeedObserver = null;
  mountPreroll(root);
  mountInFeed(root);
}

function mountPreroll(root) {
  const button = root.querySelector('#preview-button');
  const ad = root.querySelector('#preroll-video');
  const preview = root.querySelector('#course-preview-video');
  if (!button || !ad || !preview) return;
  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = 'Your preview starts after the ad…';
    // A failed play (no media, a policy) must not keep the visitor from the preview.
    ad.play().catch(showPreview);
  });
  // On the next task: every `ended` listener, the measurement's COMPLETE among them, runs
  // before the slot goes (its removal ends the impression).
  ad.addEventListener('ended', () => setTimeout(showPreview, 0));
  ad.addEventListener('error', showPreview);
  function showPreview() {
    // Removing the slot ends the ad's impression (the SDK sends its totals, FINAL).
    ad.closest('.video-ad')?.remove();
    button.remove();
    preview.hidden = false;
    preview.play().catch(() => {});
  }
}

function mountInFeed(root) {
  const video = root.querySelector('#in-feed-video');
  const sound = root.querySelector('#in-feed-sound');
  if (!video) return;
  sound?.addEventListener('click', () => {
    video.muted = !video.muted;
    sound.textContent = video.muted ? '🔇 Tap for sound' : '🔊 Sound on';
  });
  if (typeof IntersectionObserver !== 'function') return;
  inFeedObserver = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.intersectionRatio >= IN_FEED_PLAY_SHARE && !video.ended) video.play().catch(() => {});
      else if (entry.intersectionRatio < IN_FEED_PLAY_SHARE && !video.paused) video.pause();
    }
  }, { threshold: [0, IN_FEED_PLAY_SHARE, 1] });
  inFeedObserver.observe(video);
}
