// The script-tag snippet, taken from the SDK's own build (sdk-wasm/pkg/loader.js, the inline
// loader that sdk-wasm/README.md tells site owners to paste) with its SDK_URL placeholder
// pointed at this server's copy of the package (/sdk/sightline.js).
import fs from 'node:fs/promises';
import path from 'node:path';

const SDK_URL = '/sdk/sightline.js';

export async function loadSnippet(dirs) {
  // Read on every page load: a `make sdk` while the demo runs is picked up without a restart.
  try {
    const loader = await fs.readFile(path.join(dirs.sdk, 'loader.js'), 'utf8');
    return `<script>${loader.trim().replace('SDK_URL', SDK_URL)}</script>`;
  } catch {
    const hint = `Sightline demo: ${path.join(dirs.sdk, 'loader.js')} is missing; run make sdk`;
    return `<script>console.error(${JSON.stringify(hint)});window.sightline=window.sightline||function(){};</script>`;
  }
}
