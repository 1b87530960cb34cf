// Zeroes read-only data that is positively known to serve only panics, and that nothing in
// the final wasm can reach, so that wasm-opt's --memory-packing drops it. wasm-opt removes
// dead code but never dead data: once the panic paths are plain `unreachable` (the SDK's
// panic handler aborts without formatting, tools/trap-panics.mjs), their messages ("index
// out of bounds…", "memory allocation of…"), `Location`s with source paths and core's
// two-digit table `00…99` stay in `.rodata` with nothing pointing at them.
//
// Two conditions, both required, so a misjudged root can never zero the SDK's own data:
// 1. Kind: only objects recognized by their content are candidates —
//    - panic messages of core/alloc (`PANIC_MESSAGES`, plain or as fmt templates),
//    - `core::panic::Location` records (16 bytes: pointer and length of a source path, line,
//      column) and the `….rs` source-path strings they point to,
//    - core's two-digit table "000102…99" (`core::fmt::num`).
//    Every other object (lookup tables, strings, vtables, …) is kept even when it looks dead.
// 2. Liveness (conservative: when in doubt, keep):
//    - Objects are the linker's input chunks of `.rodata` (from wasm-ld's `-Map`), and the
//      NUL-terminated strings of its merged-string chunk (`<internal>`).
//    - Roots: every constant of the final code (`i32.const`, both halves of `i64.const`, the
//      `offset=` of loads/stores, which --low-memory-unused folds addresses into) and every
//      4-byte window of the data outside `.rodata` (`.data` holds pointers).
//    - A root keeps the candidate it points into. Candidates are always addressed from
//      their start (`&str` and `&'static Location` carry the start address; the digit
//      table is read at base + computed index), so an address just past the end is not
//      theirs: it belongs to whatever follows (e.g. `.data` right after `.rodata`). The
//      digit table (indexed, so its base could be biased) is also kept by a root up to
//      `BEFORE` bytes below it; messages, `Location`s and paths are never indexed.
//    - Every object that is not a candidate counts as live, and a live object's own 4-byte
//      windows are roots too (a live `Location` keeps its path), until nothing changes.
// The build fails (rather than guess) if the final module's `.rodata` bytes differ from the
// linked module's, i.e. if anything moved data after linking.
//
// usage: node drop-dead-data.mjs <wasm-opt> <linker map> <linked.wasm> <final.wasm> <wasm-opt feature flags...>
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { reader, sections } from './wasm-bytes.mjs';

// A constant up to BEFORE bytes below the digit table may address it (a base biased by a
// small negative index).
const BEFORE = 32;
// The panic messages of core and alloc that can stay behind (their start; the text after a
// format argument differs between versions). Matched against the object's printable text.
const PANIC_MESSAGES = [
  'index out of bounds: the len is ',
  'memory allocation of ',
  'insertion index (is ',
  'removal index (is ',
  'swap_remove index (is ',
  '`at` split index (is ',
  'Tried to shrink to a larger capacity',
  'capacity overflow',
  'range start index ',
  'range end index ',
  'slice index starts at ',
  'byte index ',
  'attempt to ',
  'assertion failed: ',
  'called `Option::unwrap()` on a `None` value',
  'called `Result::unwrap()` on an `Err` value',
  'unsafe precondition(s) violated: ',
];
const DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join('');
const [wasmOpt, mapPath, linkedPath, finalPath, ...features] = process.argv.slice(2);

function fail(message) {
  console.error(`drop-dead-data: ${message}`);
  process.exit(1);
}

// --- the linker map: `.rodata` chunks -------------------------------------------------
// The map must come from the link that wrote the module (a relink without `-Map` leaves an
// old one behind).
if (statSync(mapPath).mtimeMs + 5000 < statSync(linkedPath).mtimeMs) fail(`${mapPath} is older than ${linkedPath}`);
const chunks = [];
let rodata = null;
let inRodata = false;
for (const line of readFileSync(mapPath, 'utf8').split('\n')) {
  // Output section lines: "     VMA      LMA     Size Out" with one space before the name.
  const section = line.match(/^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+) (\S+)$/);
  if (section) {
    inRodata = section[3] === '.rodata';
    if (inRodata) rodata = { start: parseInt(section[1], 16), end: parseInt(section[1], 16) + parseInt(section[2], 16) };
    continue;
  }
  if (!inRodata) continue;
  // Input section lines: "<vma> <lma> <size>         <file>:(<section>)".
  const input = line.match(/^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+) {9}(\S.*):\((.*)\)$/);
  if (input) {
    chunks.push({ start: parseInt(input[1], 16), size: parseInt(input[2], 16), merged: input[3] === '<internal>' });
  }
}
if (!rodata || chunks.length === 0) fail(`no .rodata chunks in ${mapPath}`);

// --- data segments of a module ---------------------------------------------------------
function dataSegments(bytes) {
  const segments = [];
  for (const section of sections(bytes).filter((s) => s.id === 11)) {
    const r = reader(bytes, section.start);
    const count = r.leb();
    for (let i = 0; i < count; i++) {
      const flags = r.leb();
      if (flags !== 0) fail(`data segment ${i} is not an active segment of memory 0 (flags ${flags})`);
      if (bytes[r.p++] !== 0x41) fail(`data segment ${i} offset is not an i32.const`);
      const offset = r.leb(); // an address below 2^31: the signed LEB reads the same
      if (bytes[r.p++] !== 0x0b) fail(`data segment ${i} offset is not a single i32.const`);
      const length = r.leb();
      segments.push({ offset, at: r.p, length });
      r.p += length;
    }
  }
  return segments;
}

/// Memory as laid out by the module's data segments (absent bytes read as 0).
function byteAt(bytes, segments, address) {
  for (const s of segments) {
    if (address >= s.offset && address < s.offset + s.length) return bytes[s.at + address - s.offset];
  }
  return 0;
}

const linked = readFileSync(linkedPath);
const final = readFileSync(finalPath);
const linkedSegments = dataSegments(linked);
const finalSegments = dataSegments(final);
for (let a = rodata.start; a < rodata.end; a++) {
  if (byteAt(linked, linkedSegments, a) !== byteAt(final, finalSegments, a)) {
    fail(`.rodata byte at ${a} differs between the linked and the final module`);
  }
}

// Objects: chunks, with the merged-string chunk split after each NUL.
const objects = [];
for (const c of chunks) {
  if (!c.merged) {
    objects.push({ start: c.start, end: c.start + c.size });
    continue;
  }
  let from = c.start;
  for (let a = c.start; a < c.start + c.size; a++) {
    if (byteAt(final, finalSegments, a) === 0) {
      objects.push({ start: from, end: a + 1 });
      from = a + 1;
    }
  }
  if (from < c.start + c.size) objects.push({ start: from, end: c.start + c.size });
}

// --- kinds -----------------------------------------------------------------------------
const bytesOf = (o) => Buffer.from(Array.from({ length: o.end - o.start }, (_, k) => byteAt(final, finalSegments, o.start + k)));
const word = (a) =>
  (byteAt(final, finalSegments, a) |
    (byteAt(final, finalSegments, a + 1) << 8) |
    (byteAt(final, finalSegments, a + 2) << 16) |
    (byteAt(final, finalSegments, a + 3) << 24)) >>>
  0;
// A source path as rustc stores it for `Location::file()` (optionally NUL-terminated).
const SOURCE_PATH = /^[\x21-\x7e]*\/[\w.-]+\.rs\0?$/;
const isPath = (o) => SOURCE_PATH.test(bytesOf(o).toString('latin1'));
for (const o of objects) {
  const text = bytesOf(o).toString('latin1');
  if (text === DIGITS) o.kind = 'digits';
  else if (isPath(o)) o.kind = 'path';
  else if (PANIC_MESSAGES.some((m) => text.replace(/[^\x20-\x7e]/g, '\0').split('\0').some((piece) => piece.startsWith(m)))) {
    o.kind = 'message';
  }
}
for (const o of objects) {
  if (o.kind || o.end - o.start !== 16) continue;
  const [file, length, line, column] = [0, 4, 8, 12].map((k) => word(o.start + k));
  const path = objects.find((p) => p.kind === 'path' && p.start === file);
  const pathLength = path && path.end - path.start - (byteAt(final, finalSegments, path.end - 1) === 0 ? 1 : 0);
  if (path && length === pathLength && line >= 1 && line < 1e6 && column >= 1 && column < 1e4) o.kind = 'location';
}

// --- roots ------------------------------------------------------------------------------
const text = execFileSync(wasmOpt, [...features, '--print', finalPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
const roots = [];
for (const m of text.matchAll(/\bi32\.const (-?\d+)/g)) roots.push(Number(BigInt.asUintN(32, BigInt(m[1]))));
for (const m of text.matchAll(/\bi64\.const (-?\d+)/g)) {
  const v = BigInt.asUintN(64, BigInt(m[1]));
  roots.push(Number(v & 0xffffffffn), Number(v >> 32n));
}
for (const m of text.matchAll(/\boffset=(\d+)/g)) roots.push(Number(m[1]));
for (const s of finalSegments) {
  for (let a = s.offset; a + 4 <= s.offset + s.length; a++) {
    if (a < rodata.start || a >= rodata.end) roots.push(word(a));
  }
}

// --- mark -------------------------------------------------------------------------------
// Every object that is not a candidate is kept, so its words are roots whether or not
// anything seems to point at it (a table reached through a biased base keeps what it
// points to).
const live = new Set();
const pending = [...roots];
objects.forEach((o, i) => {
  if (o.kind) return;
  live.add(i);
  for (let a = o.start; a + 4 <= o.end; a++) pending.push(word(a));
});
while (pending.length) {
  const v = pending.pop();
  if (v < rodata.start - BEFORE || v > rodata.end) continue;
  objects.forEach((o, i) => {
    const below = o.kind === 'digits' ? BEFORE : 0;
    if (live.has(i) || v < o.start - below || v >= o.end) return;
    live.add(i);
    for (let a = o.start; a + 4 <= o.end; a++) pending.push(word(a));
  });
}

// --- sweep ------------------------------------------------------------------------------
const dropped = {};
let zeroed = 0;
objects.forEach((o, i) => {
  if (live.has(i)) return;
  dropped[o.kind] = (dropped[o.kind] ?? 0) + o.end - o.start;
  for (let a = o.start; a < o.end; a++) {
    for (const s of finalSegments) {
      if (a >= s.offset && a < s.offset + s.length && final[s.at + a - s.offset] !== 0) {
        final[s.at + a - s.offset] = 0;
        zeroed++;
      }
    }
  }
});
writeFileSync(finalPath, final);
execFileSync(wasmOpt, [...features, '--memory-packing', finalPath, '-o', finalPath]);
const summary = Object.entries(dropped).map(([kind, n]) => `${kind} ${n}`).join(', ');
console.log(`  ${zeroed} bytes of unreachable panic-only .rodata dropped (${summary})`);
