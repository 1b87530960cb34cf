// /live: draws the snapshots the demo server pushes over SSE (/live/events). Canvas only.
(() => {
  // One colour per event kind, in the order of the snapshot's `kinds` (sightline-proto's).
  const PALETTE = ['#38bdf8', '#a78bfa', '#64748b', '#94a3b8', '#34d399', '#f87171', '#fbbf24', '#f472b6', '#fb923c', '#2dd4bf', '#e879f9'];
  /** @type {Record<string, string>} */
  let colors = {};
  /** @type {(id: string) => any} the page's own elements: canvases, tables, a select */
  const $ = (id) => document.getElementById(id);
  const layoutSelect = $('layout');
  let last = null;

  function legend(kinds) {
    if (Object.keys(colors).join('|') === kinds.join('|')) return;
    colors = Object.fromEntries(kinds.map((kind, i) => [kind, PALETTE[i % PALETTE.length]]));
    $('legend').innerHTML = Object.entries(colors).map(([k, c]) => `<span><i style="background:${c}"></i>${k}</span>`).join('');
  }
  layoutSelect.addEventListener('change', () => last && drawHeatmap(last));

  const text = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const pct = (x) => `${(x * 100).toFixed(1)} %`;

  function drawRates(s) {
    const canvas = $('rates');
    const g = canvas.getContext('2d');
    const w = canvas.width, h = canvas.height, pad = 28;
    g.clearRect(0, 0, w, h);
    const totals = s.rates.map((r) => Object.values(r.counts).reduce((a, b) => a + b, 0));
    const max = Math.max(1, ...totals);
    const barW = (w - pad) / s.rates.length;
    g.fillStyle = '#475569'; g.font = '11px system-ui';
    g.fillText(String(max), 2, 12); g.fillText('0', 2, h - 4);
    s.rates.forEach((r, i) => {
      let y = h - 4;
      for (const kind of Object.keys(colors)) {
        const n = r.counts[kind] ?? 0;
        if (!n) continue;
        const bh = (n / max) * (h - 20);
        g.fillStyle = colors[kind];
        g.fillRect(pad + i * barW + 1, y - bh, barW - 2, bh);
        y -= bh;
      }
    });
  }

  function drawCtr(s) {
    const maxCtr = Math.max(0.01, ...s.slots.map((x) => x.ctr));
    $('ctr').tBodies[0].innerHTML = s.slots.slice(0, 25).map((x) => `<tr><td title="${text(x.campaign)} / ${text(x.creative)}">${text(x.slot)}</td><td>${text(x.placement)}</td><td>${x.impressions}</td><td>${x.viewable}</td><td>${x.clicks}</td><td><span class="bar" style="width:${Math.round((x.ctr / maxCtr) * 60)}px"></span>${pct(x.ctr)}</td></tr>`).join('') || '<tr><td colspan="6">no ad impressions yet</td></tr>';
    $('video').tBodies[0].innerHTML = (s.videos ?? []).slice(0, 25).map((v) => `<tr><td>${text(v.slot)}</td>${v.funnel.map((n) => `<td>${n}</td>`).join('')}<td>${v.viewable}</td><td>${v.avoc}</td></tr>`).join('') || '<tr><td colspan="8">no video ads yet</td></tr>';
  }

  function drawHeatmap(s) {
    const names = s.layouts.map((l) => l.layout);
    if (names.join('|') !== [...layoutSelect.options].map((o) => o.value).join('|')) {
      const keep = layoutSelect.value;
      layoutSelect.innerHTML = names.map((n) => `<option>${text(n)}</option>`).join('');
      if (names.includes(keep)) layoutSelect.value = keep;
    }
    const layout = s.layouts.find((l) => l.layout === layoutSelect.value) ?? s.layouts[0];
    const canvas = $('heatmap');
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    if (!layout) { g.fillStyle = '#64748b'; g.fillText('waiting for ad impressions…', 20, 30); return; }
    const pageW = Math.max(layout.viewportWidth, 1280, ...layout.ads.map((a) => a.rect.x + a.rect.width));
    const pageH = Math.max(layout.pageHeight, 800, ...layout.ads.map((a) => a.rect.y + a.rect.height));
    const scale = Math.min(canvas.width / pageW, canvas.height / pageH);
    // Page outline and the first viewport ("the fold").
    g.strokeStyle = '#334155'; g.strokeRect(0.5, 0.5, pageW * scale - 1, pageH * scale - 1);
    g.setLineDash([4, 4]); g.beginPath(); g.moveTo(0, 800 * scale); g.lineTo(pageW * scale, 800 * scale); g.stroke(); g.setLineDash([]);
    g.fillStyle = '#64748b'; g.font = '10px system-ui'; g.fillText('fold (800 px)', 4, 800 * scale - 3);
    const maxSeen = Math.max(1, ...layout.ads.map((a) => a.seen + a.viewable));
    for (const ad of layout.ads) {
      const { x, y, width, height } = ad.rect;
      const alpha = 0.15 + 0.6 * ((ad.seen + ad.viewable) / maxSeen);
      g.fillStyle = `rgba(52, 211, 153, ${alpha.toFixed(2)})`;
      g.fillRect(x * scale, y * scale, width * scale, height * scale);
      if (ad.viewable > 0) { g.strokeStyle = '#bbf7d0'; g.lineWidth = 1.5; g.strokeRect(x * scale, y * scale, width * scale, height * scale); }
      g.fillStyle = '#e2e8f0'; g.fillText(`${ad.placement ?? ''} ${ad.clicks ? `· ${ad.clicks} clicks` : ''}`, x * scale + 3, y * scale + 11);
    }
    for (const [x, y, onAd] of layout.clicks) {
      const grad = g.createRadialGradient(x * scale, y * scale, 0, x * scale, y * scale, 9);
      grad.addColorStop(0, onAd ? 'rgba(248,113,113,0.95)' : 'rgba(96,165,250,0.8)');
      grad.addColorStop(1, 'rgba(0,0,0,0)');
      g.fillStyle = grad;
      g.beginPath(); g.arc(x * scale, y * scale, 9, 0, Math.PI * 2); g.fill();
    }
  }

  function drawRecent(s) {
    $('recent').tBodies[0].innerHTML = s.recent.map((e) => `<tr><td>${new Date(e.t).toLocaleTimeString()}</td><td style="color:${colors[e.kind] ?? '#fff'}">${e.kind}</td><td>${text(e.user)}</td><td>${text(e.college)}</td><td>${text(e.variant)}</td><td>${text(e.layout)}</td><td>${text(e.detail)}</td></tr>`).join('');
  }

  function render(s) {
    last = s;
    legend(s.kinds);
    $('fig-events').textContent = s.total.toLocaleString();
    $('fig-users').textContent = s.users.toLocaleString();
    const recent = s.rates.slice(-10).map((r) => Object.values(r.counts).reduce((a, b) => a + b, 0));
    $('fig-rate').textContent = (recent.reduce((a, b) => a + b, 0) / 10).toFixed(1);
    $('fig-viewable').textContent = s.viewable.toLocaleString();
    $('fig-adclicks').textContent = s.adClicks.toLocaleString();
    $('fig-ctr').textContent = pct(s.ctr);
    $('fig-invalid').textContent = s.invalid.toLocaleString();
    $('fig-lag').textContent = s.lagMs === null ? '–' : `${(s.lagMs / 1000).toFixed(1)} s`;
    drawRates(s); drawCtr(s); drawHeatmap(s); drawRecent(s);
  }

  const source = new EventSource('/live/events');
  source.onopen = () => { $('status').textContent = 'connected'; $('status').className = 'status ok'; };
  source.onerror = () => { $('status').textContent = 'reconnecting…'; $('status').className = 'status'; };
  source.onmessage = (m) => { try { render(JSON.parse(m.data)); } catch (err) { console.error(err); } };
})();
