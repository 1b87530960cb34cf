// Event kinds for JavaScript (Node): names, oneof variants and Kafka topic suffixes, read from
// proto/kinds.json, which `make docs` generates from event.proto (enum EventKind) and
// sightline-proto; `cargo test -p sightline-proto` fails when the file is out of date.
// Use these instead of writing kind names out again.
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ name: string, number: number, variant: string, topic_suffix: string }} Kind
 * @type {{ unspecified: string, kinds: Kind[], special_topic_suffixes: { events: string, rejected: string, overflow: string } }}
 */
const table = JSON.parse(readFileSync(new URL('./kinds.json', import.meta.url), 'utf8'));

/** Every event kind, in enum order. */
export const KINDS = table.kinds;
/** Their names (`page_view`, …): config keys, record headers, metric labels, sightline-tail's "kind". */
export const KIND_NAMES = KINDS.map((kind) => kind.name);
/** Dead-letter and hot-user overflow topic suffixes. */
export const SPECIAL_TOPIC_SUFFIXES = table.special_topic_suffixes;

/** Kind name → full topic name under `prefix`. */
export function topicOfKind(prefix = 'sightline.') {
  return Object.fromEntries(KINDS.map((kind) => [kind.name, `${prefix}${kind.topic_suffix}`]));
}

/** Kind name → the variant of `Event.kind` in sightline-tail's JSON (`PageView`, …). */
export const VARIANT_OF_KIND = Object.fromEntries(KINDS.map((kind) => [kind.name, kind.variant]));
