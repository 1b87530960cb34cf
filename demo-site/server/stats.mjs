// Live figures from the stream of decoded events (sightline-tail JSON lines): events per kind
// per second, CTR per ad slot, and ad positions / clicks per page layout for the heatmap.
// Everything is bounded by LIMITS so a long-running demo does not grow without end.
// Like the analytics views, the figures count valid traffic only: events the collector
// classified GIVT or SIVT (bots, automation, scripted clicks) are counted apart, so a crawler
// or a click script on the demo cannot inflate its CTR.
import { KIND_NAMES } from '../../proto/kinds.mjs';
import { LIMITS } from './config.mjs';

// sightline.v1.TrafficClass GIVT and SIVT (the tail prints enums as numbers); VALID and
// UNSPECIFIED (a collector that does not classify) count.
const INVALID_CLASSES = new Set([2, 3]);

// "/courses/calc-1" and "/courses/dsa" share a layout; so do catalogue course pages.
export function layoutOf(url) {
  let pathname = '/';
  try { pathname = new URL(url).pathname; } catch { /* keep "/" */ }
  return pathname.replace(/\/courses\/[^/]+\/?$/, '/courses/:id') || '/';
}

// The oneof payload of an Event as serialized by sightline-proto's serde feature:
// { "PageView": {...} } etc.
function payloadOf(event) {
  const kind = event?.kind;
  if (!kind || typeof kind !== 'object') return null;
  const [name] = Object.keys(kind);
  return name ? kind[name] : null;
}

class BoundedSet {
  constructor(max) { this.max = max; this.items = new Set(); }
  add(value) {
    if (this.items.has(value)) return false;
    if (this.items.size >= this.max) this.items.delete(this.items.values().next().value);
    this.items.add(value);
    return true;
  }
}

export class LiveStats {
  constructor(now = () => Date.now()) {
    this.now = now;
    this.startedAt = now();
    this.totals = Object.fromEntries(KIND_NAMES.map((k) => [k, 0]));
    this.rejected = 0;
    this.invalid = 0;
    this.seconds = new Map(); // unix second → { kind → count }
    this.users = new BoundedSet(100000);
    this.slots = new Map();
    this.videos = new Map(); // video slot → impression ids per quartile (issue 20)
    this.layouts = new Map();
    this.recent = [];
    this.lastEventAt = 0;
    this.lastEventTimeMs = 0;
  }

  // One decoded line from sightline-tail.
  add(line) {
    if (line.kind === 'rejected') { this.rejected += 1; return; }
    const collected = line.collected;
    if (!collected || !(line.kind in this.totals)) return;
    if (INVALID_CLASSES.has(Number(collected.traffic_class))) { this.invalid += 1; return; }
    this.totals[line.kind] += 1;
    this.lastEventAt = this.now();
    if (collected.user_key) this.users.add(collected.user_key);
    const eventTime = Number(collected.event_time_ms) || Number(collected.received_at_ms) || this.now();
    this.lastEventTimeMs = Math.max(this.lastEventTimeMs, eventTime);
    this.countSecond(Math.floor(eventTime / 1000), line.kind);
    const payload = payloadOf(collected.event);
    const layout = layoutOf(collected.context?.url ?? '');
    if (line.kind === 'ad_impression' && payload) this.addImpression(payload, layout);
    if (line.kind === 'ad_click' && payload) this.addAdClick(payload, layout);
    if (line.kind === 'ad_video' && payload) this.addVideo(payload);
    if (line.kind === 'click' && payload?.page) this.addClickPoint(layout, payload.page, false);
    this.recent.unshift({
      t: eventTime,
      kind: line.kind,
      user: collected.user_key,
      college: collected.identity?.traits?.college ?? '',
      variant: collected.experiments?.ad_placement ?? '',
      layout,
      detail: describe(line.kind, payload),
    });
    this.recent.length = Math.min(this.recent.length, LIMITS.recentEvents);
  }

  countSecond(second, kind) {
    const oldest = Math.floor(this.now() / 1000) - LIMITS.rateWindowSecs;
    if (second <= oldest) return;
    const bucket = this.seconds.get(second) ?? {};
    bucket[kind] = (bucket[kind] ?? 0) + 1;
    this.seconds.set(second, bucket);
    for (const s of this.seconds.keys()) if (s <= oldest) this.seconds.delete(s);
  }

  slot(ad) {
    const id = this.slots.has(ad.slot_id) || this.slots.size < LIMITS.maxSlots ? ad.slot_id || '(unnamed)' : '(other)';
    let slot = this.slots.get(id);
    if (!slot) {
      slot = { slot: id, placement: ad.placement_id, campaign: ad.campaign_id, creative: ad.creative_id, impressions: new BoundedSet(LIMITS.maxImpressionIdsPerSlot), viewable: new BoundedSet(LIMITS.maxImpressionIdsPerSlot), clicks: 0 };
      this.slots.set(id, slot);
    }
    return slot;
  }

  layout(name) {
    const key = this.layouts.has(name) || this.layouts.size < LIMITS.maxLayouts ? name : '(other)';
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = { layout: key, viewportWidth: 0, pageHeight: 0, ads: new Map(), clicks: [] };
      this.layouts.set(key, layout);
    }
    return layout;
  }

  addImpression(impression, layoutName) {
    const ad = impression.ad ?? {};
    const slot = this.slot(ad);
    slot.impressions.add(impression.impression_id);
    if (impression.viewable) slot.viewable.add(impression.impression_id);
    const layout = this.layout(layoutName);
    layout.viewportWidth = Math.max(layout.viewportWidth, impression.viewport_width ?? 0);
    layout.pageHeight = Math.max(layout.pageHeight, impression.page_height ?? 0);
    const rect = impression.page_rect;
    if (rect && rect.width > 0) {
      const placed = layout.ads.get(slot.slot) ?? { slot: slot.slot, placement: ad.placement_id, rect, seen: 0, viewable: 0, clicks: 0 };
      placed.rect = rect;
      // Only the final phase counts as "seen once"; the viewable phase adds the viewable flag.
      if (impression.phase === 2) placed.seen += 1;
      if (impression.phase === 1) placed.viewable += 1;
      layout.ads.set(slot.slot, placed);
    }
  }

  // A video ad message: its quartile bits (0 start, 1-3 quartiles, 4 complete), viewable, AVOC.
  addVideo(video) {
    const ad = video.ad ?? {};
    const id = this.videos.has(ad.slot_id) || this.videos.size < LIMITS.maxSlots ? ad.slot_id || '(unnamed)' : '(other)';
    let slot = this.videos.get(id);
    if (!slot) {
      const set = () => new BoundedSet(LIMITS.maxImpressionIdsPerSlot);
      slot = { slot: id, quartiles: [set(), set(), set(), set(), set()], viewable: set(), avoc: set() };
      this.videos.set(id, slot);
    }
    const bits = Number(video.quartiles ?? 0);
    slot.quartiles.forEach((set, bit) => { if (bits & (1 << bit)) set.add(video.impression_id); });
    if (video.viewable) slot.viewable.add(video.impression_id);
    if (video.audible_visible_on_complete) slot.avoc.add(video.impression_id);
  }

  addAdClick(click, layoutName) {
    const slot = this.slot(click.ad ?? {});
    slot.clicks += 1;
    const layout = this.layout(layoutName);
    const placed = layout.ads.get(slot.slot);
    if (placed) placed.clicks += 1;
    else if (click.page_rect) layout.ads.set(slot.slot, { slot: slot.slot, placement: click.ad?.placement_id, rect: click.page_rect, seen: 0, viewable: 0, clicks: 1 });
    if (click.page) this.addClickPoint(layoutName, click.page, true);
  }

  addClickPoint(layoutName, point, onAd) {
    const layout = this.layout(layoutName);
    layout.clicks.push([point.x ?? 0, point.y ?? 0, onAd ? 1 : 0]);
    if (layout.clicks.length > LIMITS.maxClickPointsPerLayout) layout.clicks.shift();
  }

  // What /live draws, as plain JSON.
  snapshot() {
    const nowSec = Math.floor(this.now() / 1000);
    const rates = [];
    for (let s = nowSec - LIMITS.rateWindowSecs + 1; s <= nowSec; s += 1) rates.push({ t: s, counts: this.seconds.get(s) ?? {} });
    const slots = [...this.slots.values()].map((s) => ({
      slot: s.slot, placement: s.placement, campaign: s.campaign, creative: s.creative,
      impressions: s.impressions.items.size, viewable: s.viewable.items.size, clicks: s.clicks,
      // CTR over viewable impressions: clicks on ads nobody saw should not flatter a slot.
      ctr: s.viewable.items.size > 0 ? s.clicks / s.viewable.items.size : 0,
    })).sort((a, b) => b.impressions - a.impressions || a.slot.localeCompare(b.slot));
    const layouts = [...this.layouts.values()].map((l) => ({
      layout: l.layout, viewportWidth: l.viewportWidth, pageHeight: l.pageHeight, ads: [...l.ads.values()], clicks: l.clicks,
    })).sort((a, b) => b.ads.length - a.ads.length);
    const videos = [...this.videos.values()].map((v) => ({
      slot: v.slot,
      // start, 25 %, 50 %, 75 %, complete: distinct impressions that reached each
      funnel: v.quartiles.map((set) => set.items.size),
      viewable: v.viewable.items.size, avoc: v.avoc.items.size,
    })).sort((a, b) => b.funnel[0] - a.funnel[0] || a.slot.localeCompare(b.slot));
    const total = Object.values(this.totals).reduce((a, b) => a + b, 0);
    const adClicks = this.totals.ad_click;
    const viewable = slots.reduce((a, s) => a + s.viewable, 0);
    return {
      now: this.now(),
      kinds: KIND_NAMES,
      total, totals: this.totals, rejected: this.rejected, invalid: this.invalid, users: this.users.items.size,
      viewable, adClicks, ctr: viewable > 0 ? adClicks / viewable : 0,
      lagMs: this.lastEventTimeMs ? Math.max(0, this.lastEventAt - this.lastEventTimeMs) : null,
      rates, slots, videos, layouts, recent: this.recent,
    };
  }
}

function describe(kind, p) {
  if (!p) return '';
  switch (kind) {
    case 'page_view': return p.url ?? '';
    case 'click': return p.element?.selector ?? '';
    case 'scroll': return `${p.max_depth_pct ?? 0}%${p.milestone_pct ? ` (milestone ${p.milestone_pct})` : ''}`;
    case 'hover': return `${p.element?.selector ?? ''} ${p.dwell_ms ?? 0} ms`;
    case 'ad_impression': return `${p.ad?.slot_id ?? ''} ${p.phase === 1 ? 'viewable' : 'final'} ${Math.round((p.max_visible_fraction ?? 0) * 100)}% ${p.in_view_ms ?? 0} ms`;
    case 'ad_video': return `${p.ad?.slot_id ?? ''} ${['', 'start', '25%', '50%', '75%', 'complete', 'viewable', 'final'][p.event ?? 0] ?? ''} ${p.played_ms ?? 0} ms played${p.audible ? ', audible' : ''}`;
    case 'ad_click': return `${p.ad?.slot_id ?? ''} at (${p.in_ad?.x ?? 0}, ${p.in_ad?.y ?? 0})`;
    case 'search': return `“${p.query ?? ''}” → ${p.results_count ?? 0}`;
    case 'custom': return p.name ?? '';
    default: return '';
  }
}
