// Injected into every test page before any page script (context.addInitScript): an
// independent measurement of ad visibility, so the test knows which impressions must be
// `viewable` without trusting the SDK. Rule (IAB/MRC display): ≥ 50 % of the pixels in view
// (30 % for ads ≥ 242 500 px²) for ≥ 1 continuous second while the page is visible.
// Each slot element is tracked per page view; SPA navigations (pushState/popstate) close the
// page view. window.__adTruth() returns every tracked slot with its longest continuous stretch.
(() => {
  const LARGE_AD_PX = 242500;
  const entries = [];
  const byElement = new Map();
  let pageView = 1;
  const now = () => performance.now();

  function close(entry, t) {
    if (entry.since !== null) {
      entry.maxContinuousMs = Math.max(entry.maxContinuousMs, t - entry.since);
      entry.since = null;
    }
  }
  function update(entry, ratio, t) {
    entry.maxRatio = Math.max(entry.maxRatio, ratio);
    const inView = ratio >= entry.threshold - 1e-6 && document.visibilityState === 'visible';
    if (inView && entry.since === null) entry.since = t;
    if (!inView) close(entry, t);
  }
  const io = new IntersectionObserver((records) => {
    const t = now();
    for (const r of records) {
      const entry = byElement.get(r.target);
      if (entry && !entry.closed) { entry.ratio = r.intersectionRatio; update(entry, r.intersectionRatio, t); }
    }
  }, { threshold: [0, 0.1, 0.2, 0.29, 0.3, 0.31, 0.4, 0.49, 0.5, 0.51, 0.6, 0.7, 0.8, 0.9, 1] });

  // Video slots (a <video>, one inside, or data-ad-format="video": the SDK's own rule) get no
  // display impression; the SDK's video module measures them (tests/e2e/video*.test.mjs).
  const VIDEO = 'video,[data-ad-format=video]';
  function track(el) {
    if (byElement.has(el) || el.matches(VIDEO) || el.querySelector(VIDEO)) return;
    const rect = el.getBoundingClientRect();
    const area = rect.width * rect.height;
    const entry = { slot: el.dataset.adSlot, pageView, area, threshold: area >= LARGE_AD_PX ? 0.3 : 0.5, ratio: 0, maxRatio: 0, since: null, maxContinuousMs: 0, closed: false };
    byElement.set(el, entry);
    entries.push(entry);
    io.observe(el);
  }
  function scan(root) {
    if (root.nodeType !== 1) return;
    if (root.matches('[data-ad-slot]')) track(root);
    root.querySelectorAll('[data-ad-slot]').forEach(track);
  }
  function endPageView() {
    const t = now();
    for (const [el, entry] of byElement) { close(entry, t); entry.closed = true; io.unobserve(el); }
    byElement.clear();
    pageView += 1;
  }
  for (const method of ['pushState']) {
    const original = history[method];
    history[method] = function (...args) { endPageView(); return original.apply(this, args); };
  }
  addEventListener('popstate', endPageView, true);
  document.addEventListener('visibilitychange', () => {
    const t = now();
    for (const entry of byElement.values()) update(entry, entry.ratio, t);
  });
  const start = () => {
    scan(document.documentElement);
    new MutationObserver((muts) => muts.forEach((m) => m.addedNodes.forEach(scan))).observe(document.documentElement, { childList: true, subtree: true });
  };
  if (document.documentElement) start(); else addEventListener('DOMContentLoaded', start);

  window.__adTruth = () => {
    const t = now();
    return entries.map((e) => ({
      slot: e.slot, pageView: e.pageView, area: e.area, maxRatio: e.maxRatio,
      maxContinuousMs: e.since !== null ? Math.max(e.maxContinuousMs, t - e.since) : e.maxContinuousMs,
    }));
  };
})();
