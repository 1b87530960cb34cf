// Display ad slots filled by sightline-decide (issue 22). The demo server puts the service's
// URL in <meta name="sightline-decide"> (empty: no service, every slot shows its static ad at
// once, as before). With a service, a slot is first a placeholder without data-ad-slot, so the
// SDK does not start measuring an ad that is about to change; it becomes a real slot when the
// decision arrives, or with today's static ad when the service does not answer within
// DECIDE_TIMEOUT_MS. The decision travels on the slot (data-ad-decision / -policy / -variant)
// for the SDK to copy into the impression and click.
import { courseById } from './data.js';
import { adMarkup, campaignByCreative, decideUrl, staticAd } from './ads.js';
import { currentStudent } from './state.js';

// A slot waits at most this long: an ad that arrives later than a blink is worse than the
// static one (the page would jump), and the service's goal is p99 < 10 ms.
export const DECIDE_TIMEOUT_MS = 250;

function siteKey() {
  return document.querySelector('meta[name="sightline-site-key"]')?.getAttribute('content') ?? 'demo';
}

// The page's subject for contextual decisions: the course page's subject, else none (the
// service also reads it from the URL).
function pageSubject() {
  const course = location.pathname.match(/\/courses\/([\w-]+)\/?$/);
  return course ? courseById(course[1])?.subject ?? '' : '';
}

// Ad from a decision's first creative, in the shape adMarkup renders. A creative of one of the
// demo's own campaigns keeps its copy; a subject campaign of the service's catalogue is
// rendered from the course it advertises (the decision names it).
function adFromDecision(creative) {
  const known = campaignByCreative(creative.creative_id);
  if (known) return { ...known, creativeId: creative.creative_id };
  const course = courseById(creative.course);
  let hue = 0;
  for (const ch of creative.campaign_id) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
  return {
    campaign: creative.campaign_id,
    creativeId: creative.creative_id,
    headline: course?.title ?? creative.subject,
    body: course ? `${course.subject} · ${course.weeks} weeks · rated ${course.rating.toFixed(1)}` : creative.subject,
    cta: 'View course',
    course: creative.course,
    hue,
  };
}

async function requestDecision(url, slot, placement) {
  const student = currentStudent();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DECIDE_TIMEOUT_MS);
  try {
    const response = await fetch(`${url}/v1/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        site: siteKey(),
        slot,
        placement,
        page: { url: location.href.split('#')[0], subject: pageSubject() },
        college: student?.college ?? '',
        cohort: student?.cohort ?? '',
        // The demo's visitors are its students (the SDK's anonymous id is its own); an
        // anonymous visitor gets contextual ads.
        anonymous_id: '',
        user_id: student?.id ?? '',
        // The demo pages run with consent 'granted' in persistent mode.
        privacy: { mode: 'persistent', personalization: 'granted', gpc: false, minor: false },
        count: 1,
      }),
      signal: controller.signal,
    });
    if (!response.ok) return null;
    const decision = await response.json();
    return decision?.creatives?.length ? decision : null;
  } catch {
    return null; // unreachable, timed out or not JSON: the static ad
  } finally {
    clearTimeout(timer);
  }
}

// Fills every placeholder under `root` (the current view); `isCurrent()` is false once the
// view was replaced (SPA navigation), so a late answer never lands on another page.
export function fillPendingSlots(root, base, isCurrent) {
  const url = decideUrl();
  for (const pending of root.querySelectorAll('[data-ad-pending]')) {
    const el = /** @type {HTMLElement} */ (pending);
    const slot = el.dataset.adPending;
    const placement = el.dataset.placement;
    const extraClass = el.dataset.extraClass ?? '';
    requestDecision(url, slot, placement).then((decision) => {
      if (!isCurrent() || !el.isConnected) return;
      const ad = decision ? adFromDecision(decision.creatives[0]) : staticAd(slot, placement);
      el.outerHTML = adMarkup(base, slot, placement, extraClass, ad, decision);
    });
  }
}
