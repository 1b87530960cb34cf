// Ambient types for `make lint`'s checker (jsconfig.json): browser features newer than
// TypeScript's DOM library, and the globals the project's pages and tests share.

// IntersectionObserver v2 (trackVisibility): Chromium only; the SDK feature-detects it.
interface IntersectionObserverEntry {
  readonly isVisible?: boolean;
}
interface IntersectionObserverInit {
  trackVisibility?: boolean;
  delay?: number;
}

// Global Privacy Control (https://privacycg.github.io/gpc-spec/).
interface Navigator {
  readonly globalPrivacyControl?: boolean;
}

interface Window {
  /** The script-tag snippet's command queue, then the SDK's command function. */
  sightline?: any;
  /** tests/e2e/lib/ad-truth.js: the independent viewability observer's verdicts. */
  __adTruth?: () => any;
  /** bench/sdk: long tasks recorded by the page. */
  __longtasks?: any[];
  /** IAB TCF v2 CMP API: present on pages with a consent platform (sdk-wasm/js/modules/tcf.js). */
  __tcfapi?: (...args: any[]) => void;
}

/** sdk-wasm/js/dom.js runs inside the wasm-bindgen glue (tools/inline-dom.mjs), where the
 * glue's wrapper of the wasm export `dispatch` is in scope under this name. */
declare function __dispatch(kind: number, target?: unknown): void;

// The SDK's npm package is built into sdk-wasm/pkg by `make sdk` (its types come from
// wasm-bindgen). When it is built, the checker uses its real types; on a fresh clone, where
// `make lint` runs before anything is built, this declaration stands in for it.
declare module '@sightline/sdk';
