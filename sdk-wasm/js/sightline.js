// Script-tag entry: loads the SDK, then replays the commands the inline snippet queued
// (sightline('init', {...}), sightline('track', ...)) in order, and makes later calls direct.
// When the SDK cannot start (WebAssembly missing or forbidden by the page's CSP, the .wasm
// blocked or unreachable) nothing may reach the page's error handlers: the rejection is
// handled here and sightline(...) becomes a no-op; the report of why (a debug warning, a
// beacon to the collector) is an optional module fetched only then, so every page that
// starts fine does not download it.
// Modern syntax (rest/spread, arrows): every browser that runs the wasm (reference types)
// has it, and it is shorter.
import load, * as sdk from './sightline_sdk.js';
var w = window, q = w.sightline?.q || [];
function run(name, ...args) {
  // 'default' (the loader) is harmless: it returns the instance already loaded.
  var f = sdk[name];
  if (typeof f == 'function') try { f(...args); } catch (e) {}
}
load({ module_or_path: new URL('sightline_sdk_bg.wasm', import.meta.url) }).then(() => {
  w.sightline = run;
  q.forEach((call) => run(...call));
}, (e) => {
  w.sightline = () => {};
  import('./sightline-unavailable.js').then((m) => m.default(e, q), () => {});
});
