// Optional module: the texts of the SDK's debug reports. The wasm reports a code
// (`boundary::report`); js/dom.js's `log` fetches this module (sightline-debug.js, next to the
// SDK's glue) on the first report, which only pages with `debug: true` make, so the texts
// cost the other pages nothing.
// @boundary report
// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run
// SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary
var REPORT_DO_NOT_TRACK = 0, REPORT_TCF_RECEIVED = 1, REPORT_INIT_TWICE = 2,
    REPORT_INIT_OPTIONS = 3, REPORT_CONSENT_STATES = 4, REPORT_USER_ID = 5,
    REPORT_IDENTIFY_TRAITS = 6, REPORT_SET_TRAITS = 7, REPORT_EXPERIMENT = 8,
    REPORT_TRACK_NAME = 9, REPORT_TRACK_PROPS = 10, REPORT_SEARCH_QUERY = 11, REPORT_REJECTED = 12,
    REPORT_QUEUE_EVICTED = 13;
// @end boundary

/** Text of each report code. */
var texts = [];
texts[REPORT_DO_NOT_TRACK] = 'Do-Not-Track or Global Privacy Control is set: not tracking';
texts[REPORT_TCF_RECEIVED] = 'TCF signal received';
texts[REPORT_INIT_TWICE] = 'init called twice; the second call is ignored';
texts[REPORT_INIT_OPTIONS] = 'init needs { collector, siteKey } as strings';
texts[REPORT_CONSENT_STATES] = "consent must be 'granted', 'pending', 'denied' or { measurement, personalization, storage } of them";
texts[REPORT_USER_ID] = 'identify: userId must be a non-empty string';
texts[REPORT_IDENTIFY_TRAITS] = 'identify: traits must be an object';
texts[REPORT_SET_TRAITS] = 'setTraits: traits must be an object';
texts[REPORT_EXPERIMENT] = 'setExperiment: name and variant must be strings';
texts[REPORT_TRACK_NAME] = 'track: name must be a non-empty string';
texts[REPORT_TRACK_PROPS] = 'track: props must be an object';
texts[REPORT_SEARCH_QUERY] = 'search: query must be a string';
texts[REPORT_REJECTED] = 'collector rejected a batch (4xx); not retried';
texts[REPORT_QUEUE_EVICTED] = 'queue full, evicted';
export default texts;
