// Optional module: the IAB TCF v2 bridge. js/dom.js fetches it (sightline-tcf.js, next to the
// SDK's glue) only when the page has a consent-management platform (`window.__tcfapi`), so
// pages without one do not download it. It talks to the core only through the dispatch
// table: `fire(DISPATCH_TCF, tcString, numbers)` with the TCF layout below.
//
// The mapping (TCF purposes → the SDK's measurement/personalization/storage) is done here,
// so pages without a CMP do not download it: see `mapping`.
// @boundary dispatch tcf
// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run
// SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary
var DISPATCH_CLICK = 0, DISPATCH_SCROLL = 1, DISPATCH_MOUSE_OVER = 2, DISPATCH_MOUSE_OUT = 3,
    DISPATCH_POP_STATE = 4, DISPATCH_PUSH_STATE = 5, DISPATCH_VISIBILITY = 6,
    DISPATCH_PAGE_HIDE = 7, DISPATCH_FOCUS = 8, DISPATCH_BLUR = 9, DISPATCH_FLUSH_INTERVAL = 10,
    DISPATCH_ANIMATION_FRAME = 11, DISPATCH_TIMER = 12, DISPATCH_DELIVERY = 13,
    DISPATCH_INTERSECTION = 14, DISPATCH_MUTATION = 15, DISPATCH_QUEUE_READY = 16,
    DISPATCH_QUEUE_BATCH = 17, DISPATCH_TCF = 18, DISPATCH_AD_VIDEO = 19, DISPATCH_CONSENT = 20;
// Arrays of numbers, slot by slot (the JS writes them positionally):
//   TCF = [PURPOSES]
// @end boundary

/**
 * The consent purposes a TCF v2.2 TC data object gives, as a given word of the core's privacy
 * state (2 bits per purpose: 1 granted, 2 denied; measurement bits 0-1, personalization 2-3,
 * storage 4-5); 0 when the CMP does not say whether GDPR applies (nothing changes then).
 * gdprApplies false: TCF does not restrict, all granted. Else storage = purpose 1 by consent;
 * personalization = purposes 3 and 4 by consent (TCF v2.2 allows no legitimate interest for
 * them); measurement = purposes 7, 8 and 9, each by consent or legitimate interest.
 * `vendor` (the site's IAB Global Vendor List id for its Sightline deployment, 0 or absent:
 * none): when set, the vendor must also be allowed — consent for storage and personalization,
 * consent or legitimate interest for measurement — as a CMP's per-vendor choices say.
 */
export function mapping(data, vendor) {
  var applies = data.gdprApplies, p = data.purpose || {},
    c = p.consents || {}, li = p.legitimateInterests || {},
    v = data.vendor || {}, vc = !vendor || (v.consents || {})[vendor],
    vli = vc || (v.legitimateInterests || {})[vendor];
  function state(granted) { return granted ? 1 : 2; }
  function interest(n) { return c[n] || li[n]; }
  return applies === false ? 21 : applies !== true ? 0 :
    state(vli && interest(7) && interest(8) && interest(9)) +
    (state(vc && c[3] && c[4]) << 2) + (state(vc && c[1]) << 4);
}

/**
 * The vendor id the page configures for the TCF check, `<meta name="sightline-tcf-vendor"
 * content="N">` (read here, in the optional module, so that pages without a CMP pay nothing
 * for the option); 0 when absent or not a positive integer.
 */
export function configuredVendor(doc) {
  var meta = doc.querySelector('meta[name="sightline-tcf-vendor"]'),
    id = meta ? Number(meta.getAttribute('content')) : 0;
  return id > 0 && id % 1 == 0 ? id : 0;
}

/** Called by js/dom.js once loaded, with its `fire(kind, target, numbers)`. */
export default function (fire) {
  try {
    var vendor = configuredVendor(document);
    window.__tcfapi('addEventListener', 2, function (data, ok) {
      // 'cmpuishown' means the user is being asked: nothing decided yet.
      var purposes = ok && data && data.eventStatus != 'cmpuishown' && mapping(data, vendor);
      // TCF layout
      if (purposes) fire(DISPATCH_TCF, null, [purposes]);
    });
  } catch (e) {}
}
