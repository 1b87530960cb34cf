// Ad slot markup. Every slot carries the four data attributes the SDK's ad tracking reads
// (data-ad-slot / -creative / -campaign / -placement); the size is fixed by the placement.
// A slot filled by sightline-decide (decide.js) also carries its decision (data-ad-decision /
// -policy / -variant).
import { AD_SIZES, CAMPAIGNS, campaignFor } from './data.js';
import { escapeHtml } from './html.js';

// Today's static ad of a slot: the campaign for its id, the creative sized for its placement.
export function staticAd(slotId, placement) {
  const ad = campaignFor(slotId);
  const [width, height] = AD_SIZES[placement];
  return { ...ad, creativeId: `${ad.creative}-${width}x${height}` };
}

// One of the demo's own campaigns by a sized creative id ("bootcamp-v2-300x250").
export function campaignByCreative(creativeId) {
  return CAMPAIGNS.find((c) => creativeId.startsWith(`${c.creative}-`)) ?? null;
}

export function adMarkup(base, slotId, placement, extraClass, ad, decision = null) {
  const [width, height] = AD_SIZES[placement];
  const compact = height <= 90;
  const decided = decision
    ? ` data-ad-decision="${escapeHtml(decision.decision_id)}" data-ad-policy="${escapeHtml(decision.policy)}" data-ad-variant="${escapeHtml(decision.variant ?? '')}"`
    : '';
  return `<a class="ad ad-${placement} ${extraClass}" href="${base}/courses/${escapeHtml(ad.course)}" data-nav
      data-ad-slot="${escapeHtml(slotId)}" data-ad-creative="${escapeHtml(ad.creativeId)}"
      data-ad-campaign="${escapeHtml(ad.campaign)}" data-ad-placement="${placement}"${decided}
      style="--w:${width}px;--h:${height}px;--hue:${Number(ad.hue) || 0}">
    <span class="ad-label">Sponsored</span>
    <strong>${escapeHtml(ad.headline)}</strong>
    ${compact ? '' : `<span class="ad-body">${escapeHtml(ad.body)}</span>`}
    <span class="ad-cta">${escapeHtml(ad.cta)} →</span>
  </a>`;
}

// Placeholder of a slot waiting for its decision: the slot's size (the page does not jump) and
// no data-ad-slot (the SDK measures the ad that is finally shown, not this).
function pendingSlot(slotId, placement, extraClass) {
  const [width, height] = AD_SIZES[placement];
  return `<div class="ad ad-${placement} ad-pending ${extraClass}" data-ad-pending="${escapeHtml(slotId)}"
      data-placement="${placement}" data-extra-class="${escapeHtml(extraClass)}"
      style="--w:${width}px;--h:${height}px;--hue:0" aria-hidden="true"></div>`;
}

// `base` is the page's route prefix ('' or '/catalogue'): ads advertise courses of this site.
// With the decision service configured (decide.js) the slot starts as a placeholder.
export function adSlot(base, slotId, placement, extraClass = '') {
  if (decideUrl()) return pendingSlot(slotId, placement, extraClass);
  return adMarkup(base, slotId, placement, extraClass, staticAd(slotId, placement));
}

// The decision service's base URL from <meta name="sightline-decide"> (filled in by the demo
// server), '' when there is none (the placeholder left as is, or no document).
export function decideUrl() {
  if (typeof document === 'undefined') return '';
  const value = document.querySelector('meta[name="sightline-decide"]')?.getAttribute('content') ?? '';
  return value.startsWith('__') ? '' : value.replace(/\/+$/, '');
}
