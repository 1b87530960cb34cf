// Shortens the developer messages of wasm-bindgen's loader in the glue. They are long
// English sentences that every page downloads and that gzip cannot shrink much (~150 B
// gzip); the shorter ones say the same to a developer. Only message text changes: the same
// conditions warn or throw as before. Each replacement must match exactly once, so a
// wasm-bindgen upgrade that changes the text fails the build instead of passing silently.
//
// usage: node trim-glue.mjs <glue.js>
import { readFileSync, writeFileSync } from 'node:fs';

const REPLACEMENTS = [
  // The loader's feature checks and its response-type test. Every browser that can run this
  // wasm (reference types: Chrome 96, Firefox 79, Safari 15) has `Response`, `Request`, `URL`
  // and `WebAssembly.instantiateStreaming`; the SDK fetches its .wasm in CORS mode, so the
  // response type is never opaque (for one that were, both versions reject: this one after the
  // fallback finds no bytes). Same behaviour, -45 B gzip (issue 17's slot signals).
  [
    `        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("\`WebAssembly.instantiateStreaming\` failed because your server does not serve Wasm with \`application/wasm\` MIME type. Falling back to \`WebAssembly.instantiate\` which is slower. Original error:\\n", e);

                } else { throw e; }
            }
        }`,
    `        try {
            return await WebAssembly.instantiateStreaming(module, imports);
        } catch (e) {
            if (module.headers.get('Content-Type') == 'application/wasm') throw e;
            console.warn('sightline: serve .wasm as application/wasm', e);
        }`,
  ],
  [
    `

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }`,
    '',
  ],
  ["if (typeof Response === 'function' && module instanceof Response) {", 'if (module instanceof Response) {'],
  [
    "(typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)",
    'module_or_path instanceof Request || module_or_path instanceof URL',
  ],
  // The deprecation warning for `init(path)` (positional): the call still works, only the
  // console line goes (issue 20: -30 B gzip towards the video module's loader).
  [
    "console.warn('using deprecated parameters for the initialization function; pass a single object instead')",
    '',
  ],
  [
    "throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);",
    "throw new Error(`sightline: wasm ${module.status} ${module.url}`);",
  ],
  // The TextEncoder.encodeInto polyfill: every browser that can run this wasm (it needs
  // reference types: Chrome 96, Firefox 79, Safari 15) has encodeInto (Chrome 74, Firefox 66,
  // Safari 14.1), so no page ever runs it (issue 20: -40 B gzip towards the video module).
  [
    `if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}`,
    '',
  ],
  // `initSync` (synchronous instantiation from bytes or a Module): never documented as the
  // SDK's API, used by nothing here; pages start the SDK with `init` (the default export,
  // which fetches the .wasm). Dropped from the glue and its declarations (issue 20, with the
  // encodeInto polyfill towards the video module's loader; docs/sdk-size.md option 4).
  [
    `function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for \`initSync()\`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}`,
    '',
  ],
  ['export { initSync, __wbg_init as default };', 'export { __wbg_init as default };'],
];

// The same removal in the TypeScript declarations (`<glue>.d.ts` next to the glue).
const DECLARATIONS = [
  [
    `/**
 * Instantiates the given \`module\`, which can either be bytes or
 * a precompiled \`WebAssembly.Module\`.
 *
 * @param {{ module: SyncInitInput }} module - Passing \`SyncInitInput\` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;
`,
    '',
  ],
  ['export type SyncInitInput = BufferSource | WebAssembly.Module;\n', ''],
];

function apply(path, replacements) {
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of replacements) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`trim-glue: expected one occurrence of ${from.slice(0, 60)}…, found ${count} in ${path}`);
    text = text.replace(from, () => to);
  }
  writeFileSync(path, text);
}

// wasm-bindgen writes a returned (pointer, length) pair with two DataView stores in every
// import that returns a string or a vector (a dozen of them); one helper does it once
// (-10 B gzip). The pattern must still be there (an upgrade that changes it fails the build).
const RETURN_PAIR = /getDataViewMemory0\(\)\.setInt32\(\(arg0 >>> 0\) \+ 4 \* 1, (\w+), true\);\s*getDataViewMemory0\(\)\.setInt32\(\(arg0 >>> 0\) \+ 4 \* 0, (\w+), true\);/g;
const RETURN_PAIR_HELPER = `
function returnPair(at, ptr, len) {
    const view = getDataViewMemory0();
    view.setInt32((at >>> 0) + 4, len, true);
    view.setInt32(at >>> 0, ptr, true);
}
`;

function returnPairs(path) {
  let text = readFileSync(path, 'utf8');
  const count = (text.match(RETURN_PAIR) || []).length;
  if (count < 5) throw new Error(`trim-glue: expected wasm-bindgen's (pointer, length) stores, found ${count} in ${path}`);
  text = text.replace(RETURN_PAIR, 'returnPair(arg0, $2, $1);');
  text = text.replace('function getDataViewMemory0() {', () => `${RETURN_PAIR_HELPER}\nfunction getDataViewMemory0() {`);
  writeFileSync(path, text);
}

const path = process.argv[2];
apply(path, REPLACEMENTS);
returnPairs(path);
apply(path.replace(/\.js$/, '.d.ts'), DECLARATIONS);
