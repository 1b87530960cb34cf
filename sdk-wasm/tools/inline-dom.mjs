// Inlines js/dom.js (which wasm-bindgen copies to snippets/<crate-hash>/js/dom.js and
// imports from the glue) into the glue itself: one file, one request and one compression
// stream instead of two (about 0.5 KB gzip less), and no snippets/ directory to ship.
//
// usage: node inline-dom.mjs <pkg dir> <glue file name>
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [dir, glueName] = process.argv.slice(2);
const gluePath = join(dir, glueName);
let glue = readFileSync(gluePath, 'utf8');
const importLine = /^import (.+?) from ["'](\.\/snippets\/[^"']+\/js\/dom\.js)["'];?\n/gm;
const found = [...glue.matchAll(importLine)];
if (found.length === 0) throw new Error('the glue imports nothing from js/dom.js');
const dom = readFileSync(join(dir, found[0][2]), 'utf8');
const exported = [...dom.matchAll(/^export function ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
// Functions of the package API written in js/dom.js (the wasm never calls them), each named
// by a `// @package-export NAME` line: exported from the glue as they are.
const api = [...dom.matchAll(/^\/\/ @package-export ([A-Za-z_$][\w$]*)$/gm)].map((m) => m[1]);
exported.push(...api);
const body = dom.replace(/^export function /gm, 'function ');
// A dynamic `import(…)` (optional modules) is fine; static imports and other exports are not.
if (/^\s*(export|import)\b(?!\s*\()/m.test(body)) throw new Error('js/dom.js may only export functions');
const bindings = found.map(([, clause]) => {
  const named = clause.match(/^\{(.*)\}$/);
  if (named) return `const {${named[1].replace(/\bas\b/g, ':')}} = __dom;`;
  const star = clause.match(/^\* as ([A-Za-z_$][\w$]*)$/);
  if (star) return `const ${star[1]} = __dom;`;
  throw new Error(`unexpected import of js/dom.js: ${clause}`);
});
const block = `const __dom = (function () {\n${body}\nreturn { ${exported.join(', ')} };\n})();\n${bindings.join('\n')}\n${api.map((name) => `export const ${name} = __dom.${name};\n`).join('')}`;
// The wasm exports dom.js calls — `__dispatch` (web::dispatch) for every event, `__identify`
// (web::api) from the package's `identify`, which dom.js wraps to read its options — are
// made module-private here, so the package's API stays the documented exports.
for (const name of ['__dispatch', '__identify']) {
  const privateExport = new RegExp(`^export function ${name}\\(`, 'm');
  if (!privateExport.test(glue)) throw new Error(`the glue has no export ${name}`);
  glue = glue.replace(privateExport, `function ${name}(`);
}
let first = true;
glue = glue.replace(importLine, () => (first ? ((first = false), block) : ''));
writeFileSync(gluePath, glue);
rmSync(join(dir, 'snippets'), { recursive: true, force: true });
