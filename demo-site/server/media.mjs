// The demo's video files (/media/*.webm, made by scripts/demo-videos.sh): served with byte
// ranges, because a browser fetches and seeks media with Range requests (and Chromium will not
// seek a file served without `accept-ranges`).
import fs from 'node:fs/promises';
import path from 'node:path';

const TYPES = { '.webm': 'video/webm', '.mp4': 'video/mp4' };

/** Sends `file` (or the part a `Range: bytes=a-b` asks for); false when there is no such file. */
export async function sendMedia(req, res, file) {
  const type = TYPES[path.extname(file)];
  let stat;
  try { stat = await fs.stat(file); } catch { return false; }
  if (!type || !stat.isFile()) return false;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0, end = stat.size - 1, status = 200;
  if (range) {
    // `bytes=a-`, `bytes=a-b` and the suffix form `bytes=-n` (the last n bytes).
    if (range[1] === '') start = Math.max(0, stat.size - Number(range[2]));
    else { start = Number(range[1]); if (range[2] !== '') end = Math.min(end, Number(range[2])); }
    if (start > end || start >= stat.size) {
      res.writeHead(416, { 'content-range': `bytes */${stat.size}` });
      res.end();
      return true;
    }
    status = 206;
  }
  const handle = await fs.open(file);
  try {
    const body = Buffer.alloc(end - start + 1);
    await handle.read(body, 0, body.length, start);
    const headers = { 'content-type': type, 'accept-ranges': 'bytes', 'content-length': body.length, 'cache-control': 'no-store' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${stat.size}`;
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  } finally {
    await handle.close();
  }
  return true;
}
