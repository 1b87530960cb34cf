// Renders the support matrix (tests/harness/matrix.json, written from a full run of
// matrix.test.mjs) as the "Browser support" table of sdk-wasm/README.md, between the markers
// below. `node tests/harness/render-matrix.mjs` rewrites the README from the JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MATRIX = path.join(here, 'matrix.json');
export const README = path.join(here, '../../sdk-wasm/README.md');
const BEGIN = '<!-- BEGIN GENERATED: browser matrix (tests/harness/matrix.json, from `make test-browsers`; do not edit here) -->\n';
const END = '<!-- END GENERATED: browser matrix -->';
const NAMES = { chromium: 'Chromium 156', firefox: 'Firefox ESR 153', webkit: 'WebKitGTK 2.50 (Safari\'s engine)' };

/** The Markdown table: one row per feature, one column per engine. */
export function render(matrix) {
  const engines = Object.keys(matrix.engines);
  const cell = (r) => !r ? 'not run' : r.status === 'ok' ? '✓' + (r.how ? ` (${r.how})` : '') : r.status === 'degraded' ? `degraded${r.intermittent ? ' (intermittent)' : ''}: ${r.how}` : `✗ ${r.how}`;
  const lines = [`| feature | ${engines.map((e) => NAMES[e] ?? e).join(' | ')} |`, `|---|${engines.map(() => '---|').join('')}`];
  for (const feature of matrix.features) lines.push(`| ${feature} | ${engines.map((e) => cell(matrix.engines[e][feature])).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

export function readmeSection(text) {
  const start = text.indexOf(BEGIN), stop = text.indexOf(END);
  if (start < 0 || stop < start) throw new Error(`${README} lacks the browser matrix markers`);
  return text.slice(start + BEGIN.length, stop);
}

export function writeReadme(matrix) {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(BEGIN) + BEGIN.length;
  writeFileSync(README, text.slice(0, start) + render(matrix) + text.slice(text.indexOf(END)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeReadme(JSON.parse(readFileSync(MATRIX, 'utf8')));
