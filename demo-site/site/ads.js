// Ad slot markup. Every slot carries the four data attributes the SDK's ad tracking reads
// (data-ad-slot / -creative / -campaign / -placement); the size is fixed by the placement.
import { AD_SIZES, campaignFor } from './data.js';
import { escapeHtml } from './html.js';

// `base` is the page's route prefix ('' or '/catalogue'): ads advertise courses of this site.
export function adSlot(base, slotId, placement, extraClass = '') {
  const ad = campaignFor(slotId);
  const [width, height] = AD_SIZES[placement];
  const compact = height <= 90;
  return `<a class="ad ad-${placement} ${extraClass}" href="${base}/courses/${ad.course}" data-nav
      data-ad-slot="${escapeHtml(slotId)}" data-ad-creative="${ad.creative}-${width}x${height}"
      data-ad-campaign="${ad.campaign}" data-ad-placement="${placement}"
      style="--w:${width}px;--h:${height}px;--hue:${ad.hue}">
    <span class="ad-label">Sponsored</span>
    <strong>${escapeHtml(ad.headline)}</strong>
    ${compact ? '' : `<span class="ad-body">${escapeHtml(ad.body)}</span>`}
    <span class="ad-cta">${escapeHtml(ad.cta)} →</span>
  </a>`;
}
