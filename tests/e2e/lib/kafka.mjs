// Reading back what the collector wrote: every Sightline topic from the beginning, decoded by
// sightline-tail (JSON lines), and the same records' coordinates read by kcat, a different
// Kafka client, as a cross-check.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SPECIAL_TOPIC_SUFFIXES, VARIANT_OF_KIND, topicOfKind } from '../../../proto/kinds.mjs';

const run = promisify(execFile);
const topicsTxt = fileURLToPath(new URL('../../../proto/topics.txt', import.meta.url));

export const TOPICS = readFileSync(topicsTxt, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((s) => `sightline.${s}`);

// Kind name (sightline-tail's "kind") → its topic in the per_kind and per_event layouts.
export const TOPIC_OF_KIND = topicOfKind('sightline.');
// The topic of the default layout (routing.records = "per_batch", record layout v2): every
// accepted event of a request in one record (proto/README.md, "Kafka record contract").
export const EVENTS_TOPIC = `sightline.${SPECIAL_TOPIC_SUFFIXES.events}`;
// The oneof variant name in the JSON for each kind.
export const ONEOF_OF_KIND = VARIANT_OF_KIND;

export async function readAll({ tail, brokers }) {
  const { stdout } = await run(tail, ['--brokers', brokers, '--from-beginning', '--until-end', '--until-end-timeout-secs', '30'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

// topic → Map("partition/offset" → key) as kcat sees it.
export async function kcatIndex({ brokers }) {
  const index = new Map();
  for (const topic of TOPICS) {
    const { stdout } = await run('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p/%o %k\n'], { maxBuffer: 64 * 1024 * 1024, timeout: 30000 });
    const map = new Map();
    for (const line of stdout.split('\n')) {
      const space = line.indexOf(' ');
      if (space > 0) map.set(line.slice(0, space), line.slice(space + 1));
    }
    index.set(topic, map);
  }
  return index;
}
