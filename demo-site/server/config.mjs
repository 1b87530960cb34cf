// Demo server settings: command-line flags win over environment variables, which win over
// defaults. Every limit the server enforces is here, named and documented.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const siteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(siteDir, '..');

export const LIMITS = {
  // Concurrent /live viewers; more get 503 (each holds an open response).
  maxLiveClients: 50,
  // Seconds of per-kind event rates kept for the chart.
  rateWindowSecs: 60,
  // Ad slots tracked for CTR / heatmap; later slots are counted under "(other)".
  maxSlots: 500,
  // Distinct page layouts in the heatmap.
  maxLayouts: 50,
  // Click points kept per layout (the oldest are dropped first).
  maxClickPointsPerLayout: 2000,
  // Impression ids remembered per slot for deduplication (viewable + final phases).
  maxImpressionIdsPerSlot: 20000,
  // Most recent events shown in the feed.
  recentEvents: 30,
  // Wait before restarting a crashed sightline-tail, doubled up to the maximum.
  tailRestartMs: 1000,
  tailRestartMaxMs: 15000,
  // A single JSON line from the tail larger than this is skipped (a CollectedEvent is ~1 KB).
  maxLineBytes: 1024 * 1024,
};

export function loadConfig(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: env.DEMO_HOST ?? '127.0.0.1' },
      port: { type: 'string', default: env.DEMO_PORT ?? '3000' },
      collector: { type: 'string', default: env.SIGHTLINE_COLLECTOR_URL ?? 'http://localhost:8080' },
      // sightline-decide's base URL for the display ad slots (issue 22); '' = static ads only.
      decide: { type: 'string', default: env.SIGHTLINE_DECIDE_URL ?? '' },
      'site-key': { type: 'string', default: env.SIGHTLINE_SITE_KEY ?? 'demo' },
      brokers: { type: 'string', default: env.SIGHTLINE_KAFKA ?? '127.0.0.1:9092' },
      tail: { type: 'string', default: env.SIGHTLINE_TAIL ?? path.join(repoDir, 'target/debug/sightline-tail') },
      'sdk-dir': { type: 'string', default: env.SIGHTLINE_SDK_DIR ?? path.join(repoDir, 'sdk-wasm/pkg') },
      // The video files of scripts/demo-videos.sh (made by make demo and tests/e2e/run.sh).
      'media-dir': { type: 'string', default: env.DEMO_MEDIA_DIR ?? path.join(repoDir, '.cache/demo/media') },
      'no-live': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  return {
    host: values.host,
    port,
    collector: values.collector.replace(/\/+$/, ''),
    decide: values.decide.replace(/\/+$/, ''),
    siteKey: values['site-key'],
    brokers: values.brokers,
    tailBin: values.tail,
    live: !values['no-live'],
    dirs: {
      public: path.join(siteDir, 'public'),
      site: path.join(siteDir, 'site'),
      dist: path.join(siteDir, 'dist'),
      sdk: values['sdk-dir'],
      media: path.resolve(values['media-dir']),
    },
  };
}
