// Serving files from a fixed set of directories: no path escapes, explicit content types,
// no caching (the demo is rebuilt often).
import fs from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

// Resolves `relative` inside `dir`; null when it would leave `dir`.
export function safeJoin(dir, relative) {
  const decoded = (() => { try { return decodeURIComponent(relative); } catch { return null; } })();
  if (decoded === null || decoded.includes('\0')) return null;
  const full = path.resolve(dir, '.' + path.posix.normalize('/' + decoded));
  return full === dir || full.startsWith(dir + path.sep) ? full : null;
}

export async function sendFile(res, file, transform) {
  let body;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    body = await fs.readFile(file);
  } catch {
    return false;
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  if (transform && type.startsWith('text/html')) body = Buffer.from(transform(body.toString('utf8')));
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'content-length': body.length });
  res.end(body);
  return true;
}

export function sendText(res, status, text, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}
