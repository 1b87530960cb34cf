// Shortens the wasm's import, import-module and export names (wasm-bindgen's are long and end
// in 16 random hex digits, which neither gzip nor brotli can compress) and rewrites the JS
// glue to match. About 3 KB gzip of the wasm + glue were such names.
//
// usage: node minify-names.mjs <wasm-opt> <module.wasm> <glue.js> <wasm-opt feature flags...>
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmOpt, wasmPath, gluePath, ...features] = process.argv.slice(2);
const mapping = JSON.parse(
  execFileSync(wasmOpt, [...features, '--minify-imports-and-exports-and-modules', wasmPath, '-o', wasmPath], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  }),
);
const module = new WebAssembly.Module(readFileSync(wasmPath));
const modules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
if (modules.size !== 1) throw new Error(`expected one import module after minifying, got ${[...modules]}`);
const [newModule] = modules;

const imports = new Map(mapping.imports.map(([, name, short]) => [name, short]));
const exports = new Map(mapping.exports.map(([name, short]) => [name, short]));
const oldModules = new Set(mapping.imports.map(([mod]) => mod));
let glue = readFileSync(gluePath, 'utf8');
let replaced = 0;
// Import object keys: `    __wbg_name_0123456789abcdef: function(` (one per import).
glue = glue.replace(/^(\s+)([A-Za-z_$][\w$]*)(: function\b)/gm, (whole, indent, name, rest) => {
  if (!imports.has(name)) return whole;
  replaced++;
  return `${indent}${JSON.stringify(imports.get(name))}${rest}`;
});
// Functions of a JS snippet module (js/dom.js) that need no adapter are imported by the
// wasm directly from that module (`"./snippets/…": importN`); after minifying there is one
// import module, so they join the import object under their short names.
for (const [mod, name, short] of mapping.imports) {
  const key = `${JSON.stringify(mod)}: import`;
  const at = glue.indexOf(key);
  if (at < 0 || glue.startsWith(`${key}0`, at)) continue;
  const binding = glue.slice(at + key.length - 'import'.length).match(/^import\d+/)[0];
  glue = glue.replace(/(const import0 = \{\n\s+__proto__: null,\n)/, `$1        ${JSON.stringify(short)}: ${binding}.${name},\n`);
  replaced++;
}
if (replaced !== imports.size) throw new Error(`renamed ${replaced} of ${imports.size} imports in the glue`);
glue = glue.replace(/^\s+"\.\/snippets\/[^"]+": import[1-9]\d*,\n/gm, '');
for (const mod of oldModules) {
  if (mod.startsWith('./snippets/')) continue;
  const key = `${JSON.stringify(mod)}: import0`;
  if (!glue.includes(key)) throw new Error(`import module ${mod} not found in the glue`);
  glue = glue.replace(key, `${JSON.stringify(newModule)}: import0`);
}
// Export uses: `wasm.name` (the glue reaches every export through `wasm`).
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (whole, name) => {
  if (!exports.has(name)) throw new Error(`glue uses wasm.${name}, which the module does not export`);
  return `wasm[${JSON.stringify(exports.get(name))}]`;
});
writeFileSync(gluePath, glue);
