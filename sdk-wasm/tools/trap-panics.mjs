// Replaces the bodies of the standard library's panic entry points by a bare `unreachable`.
//
// Why: the SDK's panic handler traps without formatting (src/lib.rs), so every panic entry
// point (`core::panicking::panic_fmt`, `panic_bounds_check`, `handle_alloc_error`, …) ends in
// a trap anyway. But these functions come precompiled with the standard library: before they
// trap they build a `fmt::Arguments` on the stack, and that store keeps wasm-opt from seeing
// them as "just a trap". Every call site then keeps passing constant pointers to its panic
// message and `Location` (file path, line, column), which keeps that data in the download.
// With a bare `unreachable` body, wasm-opt inlines the trap into the callers, the arguments
// disappear, and tools/drop-dead-data.mjs can drop the data they pointed to.
//
// Behaviour is unchanged: each of these functions returns `!` (never returns) and the only
// effects skipped are writes to its own stack frame right before the trap (and the stack
// pointer it moved and never restored).
//
// usage: node trap-panics.mjs <module.wasm> (the module must still have its name section)
import { readFileSync, writeFileSync } from 'node:fs';
import { reader, sections } from './wasm-bytes.mjs';

// Functions that never return (`-> !`) and end in the panic handler or an abort.
const NEVER_RETURN = [
  /^core\[[0-9a-f]+\]::panicking::/,
  /^core\[[0-9a-f]+\]::(slice::index::\w+_fail|option::unwrap_failed|option::expect_failed|result::unwrap_failed|str::slice_error_fail)$/,
  /^alloc\[[0-9a-f]+\]::(alloc::handle_alloc_error|raw_vec::handle_error|raw_vec::capacity_overflow)$/,
  /^<alloc\[[0-9a-f]+\]::vec::Vec<_, _>>::(insert|insert_mut|remove|swap_remove|split_off|drain)::assert_failed$/,
  /^__rustc\[[0-9a-f]+\]::__(rdl|rust)_alloc_error_handler$/,
];

const path = process.argv[2];
const bytes = readFileSync(path);

function fail(message) {
  console.error(`trap-panics: ${message}`);
  process.exit(1);
}

const r = reader(bytes);
const leb = r.leb;
const encodeLeb = (value) => {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
};
// (`r.p += leb()` would read `r.p` before `leb()` moves it.)
const skipName = () => {
  const length = leb();
  r.p += length;
};
const skipLimits = () => {
  const flags = leb();
  leb();
  if (flags & 1) leb();
};

// --- sections ---------------------------------------------------------------------------
const moduleSections = sections(bytes);
const section = (id, name) =>
  moduleSections.find((s) => {
    if (s.id !== id) return false;
    if (name === undefined) return true;
    r.p = s.start;
    const length = leb();
    return bytes.toString('utf8', r.p, r.p + length) === name;
  });

// Result counts of the types.
const typeResults = [];
const types = section(1);
r.p = types.start;
for (let i = 0, n = leb(); i < n; i++) {
  if (bytes[r.p++] !== 0x60) fail(`type ${i} is not a function type`);
  for (let k = 0, params = leb(); k < params; k++) r.p++;
  const results = leb();
  for (let k = 0; k < results; k++) r.p++;
  typeResults.push(results);
}

// Imported functions come first in the function index space.
let importedFunctions = 0;
const imports = section(2);
if (imports) {
  r.p = imports.start;
  for (let i = 0, n = leb(); i < n; i++) {
    skipName(); // module
    skipName(); // field
    const kind = bytes[r.p++];
    if (kind === 0) {
      leb();
      importedFunctions++;
    } else if (kind === 1) {
      r.p++;
      skipLimits();
    } else if (kind === 2) {
      skipLimits();
    } else if (kind === 3) {
      r.p += 2;
    } else {
      fail(`import ${i} has unknown kind ${kind}`);
    }
  }
}

const functionTypes = [];
r.p = section(3).start;
for (let i = 0, n = leb(); i < n; i++) functionTypes.push(leb());

// Function names (custom section "name", subsection 1).
const names = new Map();
const nameSection = section(0, 'name');
if (!nameSection) fail(`${path} has no name section`);
r.p = nameSection.start;
skipName(); // "name"
while (r.p < nameSection.end) {
  const subsection = bytes[r.p++];
  const size = leb();
  const end = r.p + size;
  if (subsection === 1) {
    for (let i = 0, n = leb(); i < n; i++) {
      const index = leb();
      const length = leb();
      names.set(index, bytes.toString('utf8', r.p, r.p + length));
      r.p += length;
    }
  }
  r.p = end;
}

// --- rewrite the code section -------------------------------------------------------------
const code = section(10);
r.p = code.start;
const count = leb();
const bodies = [];
const trapped = [];
const TRAP = Buffer.from([0x00, 0x00, 0x0b]); // no locals; unreachable; end
for (let i = 0; i < count; i++) {
  const size = leb();
  const body = bytes.subarray(r.p, r.p + size);
  r.p += size;
  const name = names.get(importedFunctions + i) ?? '';
  if (NEVER_RETURN.some((pattern) => pattern.test(name))) {
    if (typeResults[functionTypes[i]] !== 0) fail(`${name} returns a value; it cannot be a panic entry point`);
    trapped.push(name);
    bodies.push(encodeLeb(TRAP.length), TRAP);
  } else {
    bodies.push(encodeLeb(size), body);
  }
}
if (trapped.length === 0) fail('no panic entry points found (names changed?)');
const codePayload = Buffer.concat([encodeLeb(count), ...bodies]);
const out = Buffer.concat([
  bytes.subarray(0, code.header),
  Buffer.from([10]),
  encodeLeb(codePayload.length),
  codePayload,
  bytes.subarray(code.end),
]);
writeFileSync(path, out);
console.log(`  ${trapped.length} panic entry points now trap directly: ${trapped.join(', ')}`);
