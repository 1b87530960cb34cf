// Optional module: why the SDK could not start. The script-tag entry (js/sightline.js) fetches
// it (sightline-unavailable.js) only when loading the wasm failed, so pages where the SDK
// starts never download it. It logs one warning with `debug: true` and sends one beacon,
// `POST {collector}/v1/unavailable?site=…&reason=…`, which the collector counts
// (sightline_collector_sdk_unavailable_total) and otherwise drops; a connect-src that blocks
// the collector blocks the beacon too, silently (sendBeacon does not throw for it).

/**
 * `error`: the load's rejection; `queue`: the commands queued by the snippet (the `init`
 * among them names the collector, the site and debug mode).
 */
export default function (error, queue) {
  // A fixed set of reasons, the only values the collector counts: no WebAssembly in this
  // browser, the .wasm not fetched (offline, connect-src, 404), compiling it refused (a CSP
  // without 'wasm-unsafe-eval') or failed.
  var reason = !window.WebAssembly ? 'no_wasm' : error instanceof TypeError || /wasm \d/.test(error && error.message) ? 'fetch' : 'wasm', o;
  for (var i = 0; i < queue.length; i++) if (queue[i][0] == 'init') o = queue[i][1];
  try {
    if (o.debug) console.warn('sightline: not started (' + reason + ')', error);
    navigator.sendBeacon(o.collector + '/v1/unavailable?site=' + encodeURIComponent(o.siteKey) + '&reason=' + reason);
  } catch (x) {} // no init queued, no sendBeacon: nothing to report to
}
