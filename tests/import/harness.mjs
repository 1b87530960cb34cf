// The real-library tests' harness: a real collector (the debug binary) against the real
// broker, a recording HTTP proxy in front of it that can answer 503 for a while (the
// libraries see Sightline's exact 503: status, Retry-After, JSON body), and the records
// read back from Kafka with sightline-tail.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kafka = process.env.SIGHTLINE_KAFKA;
if (!kafka) throw new Error('SIGHTLINE_KAFKA is not set: run under `make test` or `KAFKA_PORT=… scripts/kafka.sh up`');

/** One import source per library, so records and requests tell the libraries apart. */
export const SOURCES = {
  'segment-node': 'segment-node-write-key-0001',
  'rudder-node': 'rudder-node-write-key-00002',
  'segment-python': 'segment-python-write-key-03',
  'rudder-python': 'rudder-python-write-key-004',
};

/** @returns {Promise<number>} a port that was free a moment ago */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds the collector and sightline-tail (a no-op when `cargo test` already did). */
export function build() {
  const result = spawnSync('cargo', ['build', '--quiet', '-p', 'sightline-collector', '-p', 'sightline-tail'], {
    cwd: repo,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('cargo build failed');
}

/**
 * Starts the collector binary with a configuration of the four sources.
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startCollector() {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-import-'));
  const port = await freePort();
  const sources = Object.entries(SOURCES)
    .map(([name, key]) => `[[sources]]\nname = "${name}"\nsite = "demo"\nwrite_key = "${key}"\ntrust_client_ip = true\n`)
    .join('\n');
  const config = `[server]\nlisten = "127.0.0.1:${port}"\ncollector_id = "import-test"\n` +
    `[kafka]\nbrokers = "${kafka}"\n[spool]\ndir = "${dir}/spool"\n` +
    `[rate_limits]\nper_ip_per_s = 0\nhot_user_events_per_s = 0\n[shutdown]\nreadiness_grace_ms = 0\n` +
    `[[sites]]\nkey = "demo"\n\n${sources}`;
  writeFileSync(join(dir, 'collector.toml'), config);
  const child = spawn(join(repo, 'target/debug/sightline-collector'), ['--config', join(dir, 'collector.toml')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const ready = await fetch(`${url}/readyz`);
      if (ready.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('collector did not become ready in 30 s');
    await sleep(100);
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * @typedef {{source: string, status: number, messageIds: string[], path: string, retryHeader: string | null}} Exchange
 * One request a library made: which source (by its write key), what was answered, the
 * message ids it carried.
 */

/**
 * A proxy in front of `target` that records every request and, while `failUntil` is in
 * the future, answers it itself with the collector's 503 (`kafka_unavailable`,
 * `Retry-After: 1`) without forwarding.
 * @param {string} target
 */
export async function startProxy(target) {
  /** @type {Exchange[]} */
  const log = [];
  const state = { failUntil: 0 };
  const byKey = Object.fromEntries(Object.entries(SOURCES).map(([name, key]) => [key, name]));
  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const auth = req.headers.authorization ?? '';
      const user = Buffer.from(auth.replace(/^Basic /i, ''), 'base64').toString().split(':')[0];
      let messageIds = [];
      try {
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
        const body = JSON.parse(text);
        messageIds = (Array.isArray(body.batch) ? body.batch : [body]).map((/** @type {any} */ m) => m.messageId);
      } catch {
        // a body the collector will refuse; recorded without ids
      }
      /** @type {Exchange} */
      const exchange = {
        source: byKey[user] ?? `unknown:${user.slice(0, 4)}`,
        status: 0,
        messageIds,
        path: req.url ?? '',
        retryHeader: /** @type {string | null} */ (req.headers['x-retry-count'] ?? null),
      };
      log.push(exchange);
      if (Date.now() < state.failUntil) {
        exchange.status = 503;
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: 'kafka_unavailable', detail: 'test outage', code: 'kafka_unavailable', message: 'test outage' }));
        return;
      }
      /** @type {Record<string, string>} */
      const headers = {};
      for (const name of ['content-type', 'content-encoding', 'authorization', 'user-agent']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      try {
        const answer = await fetch(`${target}${req.url}`, { method: 'POST', headers, body: raw });
        exchange.status = answer.status;
        const text = await answer.text();
        /** @type {Record<string, string>} */
        const out = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
        const retryAfter = answer.headers.get('retry-after');
        if (retryAfter) out['retry-after'] = retryAfter;
        res.writeHead(answer.status, out);
        res.end(text);
      } catch (err) {
        exchange.status = 502;
        res.writeHead(502);
        res.end(String(err));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    /** @param {number} ms answer 503 for this long from now */
    failFor: (ms) => {
      state.failUntil = Date.now() + ms;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/**
 * Every record of these users on the events and dead-letter topics, as sightline-tail
 * prints them (one JSON object per event).
 * @param {string[]} users
 * @returns {any[]}
 */
export function readBack(users) {
  const result = spawnSync(
    join(repo, 'target/debug/sightline-tail'),
    ['--brokers', kafka ?? '', '--topic', 'events,rejected', '--user', users.join(','), '--from-beginning', '--until-end'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
  );
  if (result.status !== 0) throw new Error(`sightline-tail failed: ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

/**
 * Runs the Python sender for `library` ("segment" or "rudder"): every message type for
 * `user`, then flush; resolves with what it printed (its errors).
 * @param {'segment' | 'rudder'} library
 * @param {string} host
 * @param {string} key
 * @param {string} user
 * @returns {Promise<{errors: string[]}>}
 */
export function sendPython(library, host, key, user) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repo, '.cache/import-venv/bin/python'), [
      join(repo, 'tests/import/send_python.py'), library, host, key, user,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`send_python.py ${library} exited ${code}: ${out}`));
      else resolve(JSON.parse(out));
    });
  });
}
