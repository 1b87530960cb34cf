// Runs `sightline-tail` (from the beginning of every topic, following) and feeds each JSON
// line to a callback. The tail is restarted with backoff if it exits; stop() ends it.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { LIMITS } from './config.mjs';

export function startLiveFeed({ tailBin, brokers, onLine, log = console.error }) {
  let child = null;
  let stopped = false;
  let delay = LIMITS.tailRestartMs;
  let timer = null;

  function start() {
    if (stopped) return;
    const args = ['--brokers', brokers, '--from-beginning'];
    child = spawn(tailBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (err) => log(`live: cannot run ${tailBin}: ${err.message}`));
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (text) => {
      delay = LIMITS.tailRestartMs; // data flows: the next crash restarts quickly again
      if (text.length > LIMITS.maxLineBytes) return;
      try { onLine(JSON.parse(text)); } catch (err) { log(`live: skipped a line: ${err.message}`); }
    });
    child.stderr.on('data', (chunk) => log(`sightline-tail: ${chunk.toString().trim()}`));
    child.on('exit', (code, signal) => {
      child = null;
      if (stopped) return;
      log(`live: sightline-tail exited (${signal ?? code}); restarting in ${delay} ms`);
      // A restart replays from the beginning: the caller resets its figures.
      timer = setTimeout(() => { onLine(null); start(); }, delay);
      delay = Math.min(delay * 2, LIMITS.tailRestartMaxMs);
    });
  }

  start();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (child) child.kill('SIGTERM');
    },
  };
}
