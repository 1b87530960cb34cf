// The catalogue page: Sightline as an npm package (@sightline/sdk), bundled by Vite. The
// package's default export instantiates the WebAssembly module (Vite emits the .wasm as an
// asset); then the API is a set of plain functions.
import loadSightline, * as sightline from '@sightline/sdk';
import { startDemo } from '../site/app.js';

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';

await loadSightline();
sightline.init({
  collector: meta('sightline-collector'),
  siteKey: meta('sightline-site-key'),
  autocapture: { clicks: true, scroll: true, hovers: true },
  batch: { flushIntervalMs: 2000 },
  consent: 'granted',
  debug: true,
});

startDemo({
  root: document.getElementById('app'),
  sdk: sightline,
  base: '/catalogue',
  home: 'catalogue',
  distribution: 'npm package @sightline/sdk, bundled by Vite',
});
