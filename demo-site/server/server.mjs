#!/usr/bin/env node
// CampusLearn demo server: the site (script-tag page and the Vite-built catalogue), the SDK
// package, and /live, a picture of what reaches Kafka, fed by sightline-tail over SSE.
// No framework: node:http and a handful of routes.
//
//   node demo-site/server/server.mjs --port 8080 --collector http://127.0.0.1:8700 \
//        --brokers 127.0.0.1:9092
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { LIMITS, loadConfig } from './config.mjs';
import { safeJoin, sendFile, sendText } from './static.mjs';
import { LiveStats } from './stats.mjs';
import { startLiveFeed } from './live-feed.mjs';
import { loadSnippet } from './snippet.mjs';
import { sendMedia } from './media.mjs';

const config = loadConfig();
let stats = new LiveStats();
const liveClients = new Set();

async function template(html) {
  return html
    .replaceAll('__SIGHTLINE_COLLECTOR__', config.collector)
    .replaceAll('__SIGHTLINE_DECIDE__', config.decide)
    .replaceAll('__SIGHTLINE_SITE_KEY__', config.siteKey)
    .replace('__SIGHTLINE_SNIPPET__', await loadSnippet(config.dirs));
}

async function sendPage(res, file) {
  let html;
  try { html = await fs.readFile(file, 'utf8'); } catch { return false; }
  const body = Buffer.from(await template(html));
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': body.length });
  res.end(body);
  return true;
}

function openLiveStream(req, res) {
  if (liveClients.size >= LIMITS.maxLiveClients) return sendText(res, 503, `at most ${LIMITS.maxLiveClients} live viewers\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(`retry: 2000\ndata: ${JSON.stringify(stats.snapshot())}\n\n`);
  liveClients.add(res);
  req.on('close', () => liveClients.delete(res));
}

const routes = [
  // [test(pathname), handler(req, res, pathname) → Promise<boolean handled>]
  [(p) => p === '/healthz', (req, res) => { sendText(res, 200, 'ok\n'); return true; }],
  [(p) => p === '/live' || p === '/live/', (req, res) => sendFile(res, path.join(config.dirs.public, 'live.html'))],
  [(p) => p === '/live/events', (req, res) => { openLiveStream(req, res); return true; }],
  [(p) => p === '/live/stats.json', (req, res) => { sendText(res, 200, JSON.stringify(stats.snapshot()), 'application/json'); return true; }],
  // Client-side routes of the two pages: the server answers every one with its document.
  [(p) => p === '/' || p === '/search' || p.startsWith('/courses/'), (req, res) => sendPage(res, path.join(config.dirs.public, 'index.html'))],
  [(p) => p === '/catalogue' || p === '/catalogue/' || /^\/catalogue\/(courses|subject)\/[\w-]+\/?$/.test(p), async (req, res) => {
    if (await sendPage(res, path.join(config.dirs.dist, 'catalogue/index.html'))) return true;
    sendText(res, 503, 'The catalogue page is built by Vite: run `npm ci && npm run build` in demo-site/ (make demo does).\n');
    return true;
  }],
  [(p) => p.startsWith('/site/'), (req, res, p) => serveFrom(res, config.dirs.site, p.slice('/site/'.length))],
  [(p) => p.startsWith('/sdk/'), (req, res, p) => serveFrom(res, config.dirs.sdk, p.slice('/sdk/'.length))],
  // The video ads and the course preview (issue 20), made by scripts/demo-videos.sh.
  [(p) => p.startsWith('/media/'), (req, res, p) => {
    const file = safeJoin(config.dirs.media, p.slice('/media/'.length));
    return file !== null && sendMedia(req, res, file);
  }],
  [(p) => p.startsWith('/assets/'), (req, res, p) => serveFrom(res, config.dirs.dist, p.slice(1))],
  [() => true, (req, res, p) => serveFrom(res, config.dirs.public, p.slice(1))],
];

async function serveFrom(res, dir, relative) {
  const file = safeJoin(dir, relative);
  return file !== null && sendFile(res, file);
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed\n');
  let pathname;
  try { pathname = new URL(req.url, 'http://demo.invalid').pathname; } catch { return sendText(res, 400, 'bad url\n'); }
  try {
    for (const [matches, handle] of routes) {
      if (matches(pathname) && (await handle(req, res, pathname))) return;
    }
    sendText(res, 404, 'not found\n');
  } catch (err) {
    console.error(`demo: ${req.url}: ${err.stack ?? err}`);
    if (!res.headersSent) sendText(res, 500, 'internal error\n');
  }
});

let feed = null;
if (config.live) {
  feed = startLiveFeed({
    tailBin: config.tailBin,
    brokers: config.brokers,
    // null = the tail restarted from the beginning: start the figures over too.
    onLine: (line) => { if (line === null) stats = new LiveStats(); else stats.add(line); },
  });
}
const ticker = setInterval(() => {
  if (liveClients.size === 0) return;
  const frame = `data: ${JSON.stringify(stats.snapshot())}\n\n`;
  for (const client of liveClients) client.write(frame);
}, 1000);

server.listen(config.port, config.host, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`demo: serving CampusLearn on http://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${port} (collector ${config.collector}, Kafka ${config.brokers})`);
});

function shutdown(signal) {
  console.log(`demo: ${signal}, stopping`);
  clearInterval(ticker);
  feed?.stop();
  for (const client of liveClients) client.end();
  server.close(() => process.exit(0));
  // Keep-alive browser connections must not hold the process open.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
