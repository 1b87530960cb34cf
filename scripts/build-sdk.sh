#!/usr/bin/env bash
# `make sdk`: builds sdk-wasm/pkg/ — optimized wasm, wasm-bindgen JS glue, TypeScript
# declarations, package.json (@sightline/sdk), the script-tag entry and loader snippet, and
# the optional modules (js/modules/NAME.js → sightline-NAME.js, fetched by the SDK only on
# pages that need them) — and enforces the size budget on the main bundle (wasm + glue with
# js/dom.js + script entry + loader, gzip -9); each optional module is measured on its own.
#
# Tools (installed by scripts/ensure.sh sdk): wasm-bindgen CLI at exactly the crate's pinned
# version, wasm-opt from the npm package `binaryen` (sdk-wasm/package.json; Debian's binaryen
# corrupts current wasm-bindgen output).
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET_BYTES=${SDK_BUDGET_BYTES:-24576} # 24 KB gzip -9 (issue 4); the aim is 16 KB
# Every caller (`make sdk`, `make test`, `make demo`, `make bench`) enforces it; 24,575 B at
# the last measurement (docs/sdk-size.md keeps the history and the options left).
SDK=sdk-wasm
PKG=$SDK/pkg
WASM_IN=target/wasm32-unknown-unknown/wasm-release/sightline_sdk.wasm
WASM_MAP=target/wasm32-unknown-unknown/wasm-release/sightline_sdk.map

# The wasm32 target, wasm-bindgen CLI at the pinned version and the npm tools (`make sdk` and
# every target that builds the SDK install them first; quick when already there).
scripts/ensure.sh sdk

echo "==> cargo build (wasm32, profile wasm-release)"
# Keep the target_features section for wasm-bindgen (it needs it to emit externref glue);
# wasm-opt strips everything afterwards.
export CARGO_PROFILE_WASM_RELEASE_STRIP=false
# The linker map tells tools/drop-dead-data.mjs where each read-only object lies; `cargo rustc`
# passes the flag to this crate's link only (RUSTFLAGS would rebuild every dependency).
cargo rustc -p sightline-sdk --lib --target wasm32-unknown-unknown --profile wasm-release \
  -- -C "link-arg=-Map=$PWD/$WASM_MAP"

echo "==> wasm-bindgen --target web"
rm -rf "$PKG"
mkdir -p "$PKG"
wasm-bindgen --target web --out-dir "$PKG" --out-name sightline_sdk "$WASM_IN"

echo "==> panic entry points trap directly"
node $SDK/tools/trap-panics.mjs "$PKG/sightline_sdk_bg.wasm"

# Features every browser that runs the SDK has (Chromium/Firefox/Safari since 2021-22).
WASM_FEATURES="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types"
echo "==> wasm-opt -Oz"
# --merge-similar-functions: one body for functions differing only in constants (-120 B gzip).
# --low-memory-unused: lets loads/stores fold constant offsets; true for rustc's wasm32
# layout (the stack is placed first and grows down from 1 MiB towards 0, data lives above
# it), so addresses below 1 KiB are touched only by a stack 1 MiB deep (-170 B gzip).
# --flatten --rereloop: rebuilds each function's control flow from scratch (binaryen's
# relooper), which LLVM's nested blocks compress worse than; semantics-preserving, then
# -Oz twice cleans up the flat IR (-190 B gzip).
# --converge repeats -Oz until nothing changes; --reorder-functions-by-name puts functions of
# one Rust module next to each other (similar code closer together compresses better);
# together -110 B gzip once the panic entry points trap directly.
# shellcheck disable=SC2086
$SDK/node_modules/.bin/wasm-opt --merge-similar-functions --low-memory-unused \
  --flatten --rereloop --merge-similar-functions -Oz -Oz --converge --reorder-functions-by-name \
  $WASM_FEATURES --strip-debug --strip-producers --strip-target-features \
  "$PKG/sightline_sdk_bg.wasm" -o "$PKG/sightline_sdk_bg.wasm"

echo "==> unreachable read-only data (panic messages and locations, fmt tables)"
# shellcheck disable=SC2086
node $SDK/tools/drop-dead-data.mjs $SDK/node_modules/.bin/wasm-opt "$WASM_MAP" "$WASM_IN" \
  "$PKG/sightline_sdk_bg.wasm" $WASM_FEATURES

echo "==> short import/export names (wasm and glue)"
# shellcheck disable=SC2086
node $SDK/tools/minify-names.mjs $SDK/node_modules/.bin/wasm-opt \
  "$PKG/sightline_sdk_bg.wasm" "$PKG/sightline_sdk.js" $WASM_FEATURES

echo "==> js/dom.js into the glue"
node $SDK/tools/inline-dom.mjs "$PKG" sightline_sdk.js

echo "==> shorter loader messages in the glue"
node $SDK/tools/trim-glue.mjs "$PKG/sightline_sdk.js"

echo "==> terser (JS glue and script-tag entry)"
# The wasm-bindgen glue is readable source; minified it is what pages download.
# unsafe_arrows turns function expressions that use neither `this` nor `arguments` into
# arrows; it is "unsafe" only for functions called with `new` or whose `prototype` is read,
# which neither the glue (no exported classes) nor js/dom.js does (-25 B gzip).
$SDK/node_modules/.bin/terser "$PKG/sightline_sdk.js" --module --ecma 2020 \
  --compress passes=2,unsafe_arrows --mangle -o "$PKG/sightline_sdk.js"
$SDK/node_modules/.bin/terser $SDK/js/sightline.js --module --ecma 2020 --compress passes=2,unsafe_arrows --mangle -o "$PKG/sightline.js"
cp $SDK/js/loader.js "$PKG/loader.js"

echo "==> optional modules (js/modules/NAME.js → sightline-NAME.js)"
modules=()
for module in "$SDK"/js/modules/*.js; do
  [ -e "$module" ] || continue
  out="sightline-$(basename "$module")"
  $SDK/node_modules/.bin/terser "$module" --module --ecma 2020 \
    --compress passes=2,unsafe_arrows --mangle -o "$PKG/$out"
  modules+=("$out")
done
cp $SDK/README.md "$PKG/README.md"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cat > "$PKG/package.json" <<JSON
{
  "name": "@sightline/sdk",
  "version": "$version",
  "description": "Sightline browser SDK: autocapture, ad viewability, protobuf batching, reliable delivery (Rust/WebAssembly)",
  "license": "Apache-2.0",
  "type": "module",
  "main": "./sightline_sdk.js",
  "module": "./sightline_sdk.js",
  "types": "./sightline_sdk.d.ts",
  "exports": {
    ".": {
      "types": "./sightline_sdk.d.ts",
      "import": "./sightline_sdk.js",
      "default": "./sightline_sdk.js"
    },
    "./script": "./sightline.js",
    "./sightline_sdk_bg.wasm": "./sightline_sdk_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": [
    "sightline_sdk.js",
    "sightline_sdk.d.ts",
    "sightline_sdk_bg.wasm",
    "sightline_sdk_bg.wasm.d.ts",
    "sightline.js",
    "loader.js",$(printf '\n    "%s",' "${modules[@]}")
    "README.md"
  ],
  "sideEffects": false
}
JSON

echo "==> size budget (gzip -9 limit $BUDGET_BYTES bytes on the main bundle)"
node - "$PKG" "$BUDGET_BYTES" "${modules[@]}" <<'NODE'
const fs = require('fs'), zlib = require('zlib'), path = require('path');
const [dir, budget, ...optional] = process.argv.slice(2);
const row = (name, data, g, b) =>
  console.log(`  ${name.padEnd(24)} ${String(data).padStart(7)} raw ${String(g).padStart(6)} gzip ${String(b).padStart(6)} brotli`);
function measure(f) {
  const data = fs.readFileSync(path.join(dir, f));
  const g = zlib.gzipSync(data, { level: 9 }).length;
  const b = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  row(f, data.length, g, b);
  return [data.length, g, b];
}
// The main bundle: what every page downloads (the glue includes js/dom.js, see
// tools/inline-dom.mjs). The budget applies to it.
console.log('  main bundle (every page):');
let raw = 0, gz = 0, br = 0;
for (const f of ['sightline_sdk_bg.wasm', 'sightline_sdk.js', 'sightline.js', 'loader.js']) {
  const [r, g, b] = measure(f);
  raw += r; gz += g; br += b;
}
console.log(`  ${'total'.padEnd(24)} ${String(raw).padStart(7)} raw ${String(gz).padStart(6)} gzip ${String(br).padStart(6)} brotli (budget ${budget} gzip, ${budget - gz} B left)`);
// Optional modules: each downloaded only by pages that need it, on top of the main bundle.
if (optional.length) console.log('  optional modules (each only on pages that need it):');
for (const f of optional) measure(f);
if (gz > Number(budget)) {
  console.error(`SDK size ${gz} B gzip exceeds the budget of ${budget} B by ${gz - budget} B`);
  process.exit(1);
}
NODE
echo "==> $PKG ready"
