// The bench's own web server (loopback only): the page, the SDK files from
// sdk-wasm/pkg/, and a recorder for POST /v1/batch that stores every body so sdk-wire
// can count events and bytes. The recorder answers like the collector would.

import { createServer } from 'node:http';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { page } from './page.mjs';

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
/** Largest body the recorder keeps; the SDK's own limit is far below. */
const MAX_BODY = 256 * 1024;

export async function startServer({ pkgDir, bodiesDir, port = 0 }) {
  await mkdir(bodiesDir, { recursive: true });
  const loader = (await readFile(join(pkgDir, 'loader.js'), 'utf8')).trim();
  const state = { record: false, label: 'run', requests: 0, seq: 0, bodyBytes: 0 };
  const snippet = `<script>${loader.replace('SDK_URL', '/sdk/sightline.js')}
sightline('init', { collector: location.origin, siteKey: 'demo' });</script>`;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    try {
      if (req.method === 'POST' && url.pathname === '/v1/batch') {
        const chunks = [];
        let size = 0;
        for await (const chunk of req) {
          size += chunk.length;
          if (size > MAX_BODY) { res.writeHead(413).end(); return; }
          chunks.push(chunk);
        }
        const body = Buffer.concat(chunks);
        if (state.record) {
          state.requests += 1;
          state.bodyBytes += body.length;
          state.seq += 1;
          await writeFile(join(bodiesDir, `${state.label}-${String(state.seq).padStart(4, '0')}.bin`), body);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":0,"rejected":0}');
        return;
      }
      if (url.pathname.startsWith('/sdk/')) {
        const name = normalize(url.pathname.slice('/sdk/'.length)).replace(/^(\.\.[/\\])+/, '');
        const ext = name.slice(name.lastIndexOf('.'));
        const data = await readFile(join(pkgDir, name));
        res.writeHead(200, { 'content-type': TYPES[ext] || 'application/octet-stream', 'cache-control': 'no-store' }).end(data);
        return;
      }
      if (req.method === 'GET') {
        const html = page(url.searchParams.get('sdk') === '1' ? snippet : '');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(404).end(String(e && e.code || 'error'));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(null)));
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { server, state, origin: `http://127.0.0.1:${bound}`, snippetBytes: Buffer.byteLength(snippet) };
}
