// Optional module: the IAB TCF v2 bridge. js/dom.js fetches it (sightline-tcf.js, next to the
// SDK's glue) only when the page has a consent-management platform (`window.__tcfapi`), so
// pages without one do not download it. It talks to the core only through the dispatch
// table: `fire(DISPATCH_TCF, tcString, numbers)` with the TCF layout below.
//
// Skeleton (issue 15): it forwards what the CMP reports; what the core makes of it (consent
// purposes → the SDK's consent state, the wire fields) is issue 18's.
// @boundary dispatch tcf
// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run
// SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary
var DISPATCH_CLICK = 0, DISPATCH_SCROLL = 1, DISPATCH_MOUSE_OVER = 2, DISPATCH_MOUSE_OUT = 3,
    DISPATCH_POP_STATE = 4, DISPATCH_PUSH_STATE = 5, DISPATCH_VISIBILITY = 6,
    DISPATCH_PAGE_HIDE = 7, DISPATCH_FOCUS = 8, DISPATCH_BLUR = 9, DISPATCH_FLUSH_INTERVAL = 10,
    DISPATCH_ANIMATION_FRAME = 11, DISPATCH_TIMER = 12, DISPATCH_DELIVERY = 13,
    DISPATCH_INTERSECTION = 14, DISPATCH_MUTATION = 15, DISPATCH_QUEUE_READY = 16,
    DISPATCH_QUEUE_BATCH = 17, DISPATCH_TCF = 18, DISPATCH_AD_VIDEO = 19;
// Arrays of numbers, slot by slot (the JS writes them positionally):
//   TCF = [GDPR_APPLIES, CMP_ID, POLICY_VERSION, USER_ACTION, PURPOSE_CONSENTS, PURPOSE_LEGITIMATE_INTERESTS]
// @end boundary

/** Purposes 1..24 of a TCF `{n: true}` object as bits (purpose n is bit n-1). */
function bits(purposes) {
  for (var n = 0, i = 1; i < 25; i++) n += purposes && purposes[i] ? 2 ** (i - 1) : 0;
  return n;
}

/** Called by js/dom.js once loaded, with its `fire(kind, target, numbers)`. */
export default function (fire) {
  try {
    window.__tcfapi('addEventListener', 2, function (data, ok) {
      // 'cmpuishown' means the user is being asked: nothing decided yet.
      if (!ok || !data || data.eventStatus == 'cmpuishown') return;
      var applies = data.gdprApplies, purpose = data.purpose || {};
      // TCF layout
      fire(DISPATCH_TCF, '' + (data.tcString || ''), [
        applies === true ? 1 : applies === false ? 0 : -1,
        +data.cmpId || 0,
        +data.tcfPolicyVersion || 0,
        data.eventStatus == 'useractioncomplete' ? 1 : 0,
        bits(purpose.consents),
        bits(purpose.legitimateInterests),
      ]);
    });
  } catch (e) {}
}
