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
  /** tests/browser/pages (used by tests/harness): the page's SDK module once initialized. */
  ready?: boolean;
  sdk?: any;
  /** tests/browser/pages/csp.html: the host page's own state, errors, CSP violations, warnings. */
  hostReady?: boolean;
  pageErrors?: string[];
  pageRequests?: { url: string, at: number, outcome: string | number }[];
  pageFocus?: string[];
  pageIntersections?: string[];
  violations?: string[];
  warnings?: string[];
  /** tests/e2e/ivt.test.mjs: the in-page scripted clicker's count of clicks once it is done. */
  __clickerDone?: number;
  /** bench/sdk: long tasks recorded by the page. */
  __longtasks?: any[];
  /** IAB TCF v2.2 CMP API (a consent-management platform's stub or full API); the SDK loads
   * its TCF module (js/modules/tcf.js) only where the page has one. */
  __tcfapi?: (command: string, version: number, callback: (...args: any[]) => void, parameter?: unknown) => void;
}

/** sdk-wasm/js/dom.js runs inside the wasm-bindgen glue (tools/inline-dom.mjs), where the
 * glue's wrapper of the wasm export `dispatch` is in scope under this name. */
declare function __dispatch(kind: number, target?: unknown): void;
/** The wasm's `identify` (web::api), module-private in the glue like `__dispatch`; js/dom.js's
 *  package export `identify` calls it. */
declare function __identify(userId: unknown, traits: unknown): void;

// The SDK's npm package is built into sdk-wasm/pkg by `make sdk` (its types come from
// wasm-bindgen). When it is built, the checker uses its real types; on a fresh clone, where
// `make lint` runs before anything is built, this declaration stands in for it.
declare module '@sightline/sdk';
