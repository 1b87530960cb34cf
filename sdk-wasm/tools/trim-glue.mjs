// Shortens the developer messages of wasm-bindgen's loader in the glue. They are long
// English sentences that every page downloads and that gzip cannot shrink much (~150 B
// gzip); the shorter ones say the same to a developer. Only message text changes: the same
// conditions warn or throw as before. Each replacement must match exactly once, so a
// wasm-bindgen upgrade that changes the text fails the build instead of passing silently.
//
// usage: node trim-glue.mjs <glue.js>
import { readFileSync, writeFileSync } from 'node:fs';

const REPLACEMENTS = [
  [
    "console.warn(\"`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\\n\", e);",
    "console.warn('sightline: serve the .wasm as application/wasm (slower fallback used)', e);",
  ],
  [
    "console.warn('using deprecated parameters for `initSync()`; pass a single object instead')",
    "console.warn('sightline: initSync({ module }) expected')",
  ],
  [
    "console.warn('using deprecated parameters for the initialization function; pass a single object instead')",
    "console.warn('sightline: init({ module_or_path }) expected')",
  ],
  [
    "throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);",
    "throw new Error(`sightline: wasm ${module.status} ${module.url}`);",
  ],
];

const path = process.argv[2];
let glue = readFileSync(path, 'utf8');
for (const [from, to] of REPLACEMENTS) {
  const count = glue.split(from).length - 1;
  if (count !== 1) throw new Error(`trim-glue: expected one occurrence of ${from.slice(0, 60)}…, found ${count}`);
  glue = glue.replace(from, () => to);
}
writeFileSync(path, glue);
