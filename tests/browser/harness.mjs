// Shared helpers: start the batch recorder (Rust, decodes every batch with sightline-proto)
// and system Chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const recorderBin = path.join(root, 'target/debug/batch-recorder');
const mtime = (file) => { try { return statSync(file).mtimeMs; } catch { return 0; } };

export async function startRecorder() {
  // `make test` has built it already (cargo test builds the tests crate's binaries); build
  // only when missing or older than its source, since cargo may wait on a shared lock.
  if (mtime(recorderBin) < mtime(path.join(root, 'tests/src/bin/batch-recorder.rs'))) {
    execFileSync('cargo', ['build', '--quiet', '-p', 'sightline-tests', '--bin', 'batch-recorder'], { cwd: root, stdio: 'inherit' });
  }
  const child = spawn(recorderBin, [], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[\d.:]+)/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`batch-recorder exited with ${code}`)));
    setTimeout(() => reject(new Error('batch-recorder did not start in 60 s')), 60_000).unref();
  });
  return {
    url,
    async batches() { return (await fetch(`${url}/batches`)).json(); },
    async control(query) { await fetch(`${url}/control?${query}`, { method: 'POST' }); },
    stop() { child.stdout.destroy(); child.kill('SIGTERM'); },
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function launch() {
  // scripts/test.sh runs `node --test tests/browser/` on a fresh clone: install the pinned
  // playwright-core from package-lock.json first if needed (no browser download: it drives
  // the system Chromium).
  if (!existsSync(path.join(here, 'node_modules/playwright-core'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Polls the recorder until `done(events, state)` holds or `timeoutMs` passes. */
export async function waitForEvents(recorder, done, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let state;
  for (;;) {
    state = await recorder.batches();
    // Arrival order is not send order (a beacon at page hide can overtake a fetch in
    // flight): order by page session (first seen first), then batch_seq.
    const sessions = [...new Set(state.batches.map((b) => b.identity?.page_session_id))];
    state.batches.sort((a, b) => sessions.indexOf(a.identity?.page_session_id) - sessions.indexOf(b.identity?.page_session_id) || Number(a.batch_seq) - Number(b.batch_seq));
    const events = state.batches.flatMap((b) => b.events.map((e) => ({ ...e, batch: b })));
    if (done(events, state)) return { events, state };
    if (Date.now() > deadline) return { events, state };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The kind of an event as serialized by sightline-proto's serde view. */
export function kindOf(event) {
  const kind = event.kind || {};
  const [name] = Object.keys(kind);
  return name;
}

/**
 * What the SDK's durable queue holds in `page`'s origin: IndexedDB record sizes (null when
 * the database is absent or unusable), localStorage record sizes, and the evicted count.
 * Call it only after the SDK has opened its database (opening it first would create it
 * without the store).
 */
export async function queueState(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const local = Object.keys(localStorage).filter((k) => k.startsWith('sl_b.')).sort().map((k) => localStorage.getItem(k).length);
    const evicted = Number(localStorage.getItem('sl_qe') || 0);
    const done = (idb) => resolve({ idb, ls: local, evicted, bytes: (idb || []).reduce((a, b) => a + b, 0) + local.reduce((a, b) => a + b, 0) });
    if (!window.indexedDB) return done(null);
    const open = indexedDB.open('sightline', 1);
    open.onerror = () => done(null);
    open.onsuccess = () => {
      const db = open.result;
      try {
        const all = db.transaction('q').objectStore('q').getAll();
        all.onsuccess = () => { db.close(); done(all.result.map((r) => r.n)); };
        all.onerror = () => { db.close(); done(null); };
      } catch { db.close(); done(null); }
    };
  }));
}

/** Polls `check()` until it returns a truthy value or `timeoutMs` passes (then returns the last value). */
export async function until(check, timeoutMs = 10_000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
