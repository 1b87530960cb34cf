// The campaign dashboard's page: fetches /api/panels (every query of analytics/queries/, run by
// ClickHouse for the filters) every REFRESH_MS and redraws the panels as inline SVG and tables.
// After each complete draw it sets <body data-drawn="N"> and the performance mark
// "dashboard-drawn", which the browser test times from navigation.

const REFRESH_MS = 5000;
const PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#14b8a6', '#64748b', '#db2777'];
const FILTERS = ['site', 'from', 'to', 'college', 'cohort', 'campaign'];

/** @param {unknown} v */
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** @param {unknown} x */
const pct = (x) => (x === null || x === undefined ? '–' : `${(Number(x) * 100).toFixed(2)} %`);
const num = (x) => (x === null || x === undefined ? '–' : Number(x).toLocaleString('en-US'));
/** @param {string} id */
const el = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

function table(rows, columns, fmt = {}) {
  if (!rows.length) return '<p class="empty">No rows for these filters.</p>';
  const head = columns.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td>${esc((fmt[c] || ((v) => (v === null ? '–' : v)))(r[c]))}</td>`).join('')}</tr>`).join('');
  return `<table><tr>${head}</tr>${body}</table>`;
}

function ctrBars(rows) {
  if (!rows.length) return '<p class="empty">No ad impressions for these filters.</p>';
  const colleges = [...new Set(rows.map((r) => r.college || '(none)'))].sort();
  const cohorts = [...new Set(rows.map((r) => r.cohort || '(none)'))].sort();
  const top = Math.max(...rows.map((r) => Number(r.ctr || 0)), 0.0001) * 1.15;
  const w = Math.max(440, colleges.length * cohorts.length * 7 + 60), h = 220, left = 44, bottom = 40;
  const groupW = (w - left) / colleges.length, barW = (groupW * 0.85) / cohorts.length;
  const parts = [`<svg viewBox="0 0 ${w} ${h + 24}" width="100%" role="img" aria-label="CTR per college and cohort">`];
  for (let i = 0; i <= 4; i++) {
    const y = h - bottom - ((h - bottom - 10) * i) / 4;
    parts.push(`<line x1="${left}" x2="${w}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${left - 4}" y="${y + 3}" text-anchor="end" class="ax">${((top * i) / 4 * 100).toFixed(1)}%</text>`);
  }
  const by = new Map(rows.map((r) => [`${r.college || '(none)'}|${r.cohort || '(none)'}`, r]));
  colleges.forEach((college, ci) => {
    const x0 = left + ci * groupW + groupW * 0.075;
    cohorts.forEach((cohort, k) => {
      const r = by.get(`${college}|${cohort}`);
      if (!r) return;
      const ctr = Number(r.ctr || 0), bh = ((h - bottom - 10) * ctr) / top, x = x0 + k * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(h - bottom - bh).toFixed(1)}" width="${Math.max(barW - 1, 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${esc(college)} / ${esc(cohort)}: CTR ${pct(ctr)}, ${num(r.clicks)} clicks / ${num(r.impressions)} impressions</title></rect>`);
    });
    if (colleges.length <= 16 || ci % Math.ceil(colleges.length / 16) === 0) {
      parts.push(`<text x="${x0 + groupW * 0.4}" y="${h - bottom + 12}" text-anchor="end" transform="rotate(-35 ${x0 + groupW * 0.4} ${h - bottom + 12})" class="ax">${esc(college)}</text>`);
    }
  });
  cohorts.forEach((cohort, k) => parts.push(`<rect x="${left + k * 90}" y="${h + 8}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${left + k * 90 + 14}" y="${h + 17}" class="ax">cohort ${esc(cohort)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}

function heatmap(rows) {
  if (!rows.length) return '<p class="empty">No ad positions for these filters.</p>';
  const maxX = Math.max(...rows.map((r) => Number(r.cell_x))) + 2, maxY = Math.max(...rows.map((r) => Number(r.cell_y))) + 2;
  const scale = Math.max(6, Math.min(30, Math.floor(440 / Math.max(maxX, maxY))));
  const top = Math.max(...rows.map((r) => Number(r.impressions)), 1);
  const color = (heat) => `rgb(${Math.round(255 - 40 * heat)},${Math.round(237 - 190 * heat)},${Math.round(213 - 190 * heat)})`;
  const w = maxX * scale + 160, h = maxY * scale + 30;
  const parts = [`<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="ad position heatmap"><rect x="40" y="16" width="${maxX * scale}" height="${maxY * scale}" fill="#f8fafc" stroke="#cbd5e1"/>`];
  for (const r of rows) {
    const x = 40 + Number(r.cell_x) * scale, y = 16 + Number(r.cell_y) * scale, heat = Number(r.impressions) / top;
    parts.push(`<rect x="${x}" y="${y}" width="${scale}" height="${scale}" fill="${color(heat)}" stroke="#fff"><title>cell (${r.x_px}, ${r.y_px}) px: ${num(r.impressions)} impressions, ${num(r.viewable_impressions)} viewable, ${num(r.clicks)} clicks, CTR ${pct(r.ctr)}</title></rect>`);
  }
  for (let gy = 0; gy <= maxY; gy += Math.max(2, Math.ceil(maxY / 8))) parts.push(`<text x="34" y="${20 + gy * scale}" text-anchor="end" class="ax">${gy * 100}</text>`);
  const lx = 50 + maxX * scale;
  for (let k = 0; k <= 4; k++) parts.push(`<rect x="${lx}" y="${16 + k * 20}" width="14" height="14" fill="${color(k / 4)}" stroke="#cbd5e1"/><text x="${lx + 18}" y="${27 + k * 20}" class="ax">${num(Math.round((top * k) / 4))} impr.</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function funnel(rows) {
  if (!rows.length || !Number(rows[0].sessions)) return '<p class="empty">No searching sessions for these filters.</p>';
  const first = Number(rows[0].sessions), w = 460, rowH = 44;
  const parts = [`<svg viewBox="0 0 ${w} ${rowH * rows.length + 6}" width="100%" role="img" aria-label="funnel">`];
  rows.forEach((r, i) => {
    const n = Number(r.sessions), bw = ((w - 220) * n) / first, x = 110 + (w - 220 - bw) / 2, y = 3 + i * rowH;
    parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${bw.toFixed(1)}" height="${rowH - 10}" rx="4" fill="${PALETTE[i]}"/><text x="100" y="${y + rowH / 2}" text-anchor="end" class="lbl">${esc(r.step_name)}</text><text x="${w - 104}" y="${y + rowH / 2}" class="lbl">${num(n)} (${((n / first) * 100).toFixed(1)} %)</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function abTable(rows) {
  const verdict = (r) => (r.variant === 'control' ? 'control' : r.p_value === null ? '–' : Number(r.p_value) < 0.05 ? 'significant (p < 0.05)' : 'not significant');
  const shown = rows.map((r) => ({ ...r, verdict: verdict(r) }));
  const four = (v) => (v === null ? '–' : Number(v).toFixed(4));
  return table(shown, ['experiment', 'variant', 'users', 'impressions', 'clicked_impressions', 'ctr', 'z', 'p_value', 'verdict'], { ctr: pct, z: four, p_value: four, users: num, impressions: num, clicked_impressions: num });
}

const RENDER = {
  ctr_by_college_cohort: ctrBars,
  ad_heatmap: heatmap,
  funnel_search_course_ad_click: funnel,
  ab_ctr_significance: abTable,
  ctr_by_slot_daily: (rows) => table(rows, ['day', 'slot_id', 'impressions', 'viewable_impressions', 'clicks', 'viewability_rate', 'ctr'], { ctr: pct, viewability_rate: pct, impressions: num, viewable_impressions: num, clicks: num }),
  events_by_kind_daily: (rows) => table(rows, ['day', 'kind', 'events', 'users', 'sessions'], { events: num, users: num, sessions: num }),
  rejected_by_reason: (rows) => table(rows, ['reason', 'rejected']),
};

/** A panel for a query this page has no chart for (e.g. an IVT report): its rows as a table. */
function genericPanel(name) {
  let section = document.getElementById(`p-${name}`);
  if (!section) {
    section = document.createElement('section');
    section.id = `p-${name}`;
    section.innerHTML = `<h2>${esc(name.replace(/_/g, ' '))}</h2><p class="q"></p><div class="chart"></div>`;
    document.querySelector('main').append(section);
  }
  return section;
}

function filterQuery() {
  const params = new URLSearchParams();
  for (const f of FILTERS) {
    const value = /** @type {HTMLInputElement} */ (el(`f-${f}`)).value;
    if (value) params.set(f, value);
  }
  return params.toString();
}

let draws = 0;
let inFlight = false;

async function refresh() {
  if (inFlight) return;
  inFlight = true;
  const status = el('status');
  try {
    const answer = await fetch(`/api/panels?${filterQuery()}`);
    const data = await answer.json();
    if (!answer.ok) throw new Error(data.error || answer.statusText);
    for (const [name, rows] of Object.entries(data.panels)) {
      const section = document.getElementById(`p-${name}`) || genericPanel(name);
      section.hidden = false;
      section.querySelector('.q').textContent = data.questions[name];
      section.querySelector('.chart').innerHTML = (RENDER[name] || ((r) => table(r, r.length ? Object.keys(r[0]) : [])))(rows);
    }
    for (const name of data.absent) {
      const section = document.getElementById(`p-${name}`);
      if (section) section.hidden = true;
    }
    const ms = Object.values(data.query_ms).reduce((a, b) => a + Number(b), 0);
    status.textContent = `updated ${new Date().toLocaleTimeString()} · ${Object.keys(data.panels).length} queries in ${ms.toFixed(0)} ms · every ${REFRESH_MS / 1000} s`;
    draws += 1;
    performance.mark('dashboard-drawn');
    document.body.dataset.drawn = String(draws);
  } catch (err) {
    status.innerHTML = `<span class="error">${esc(err.message)}</span>`;
  } finally {
    inFlight = false;
  }
}

function fill(id, values, keepAll) {
  const select = /** @type {HTMLSelectElement} */ (el(id));
  const kept = select.value;
  select.innerHTML = (keepAll ? '<option value="">all</option>' : '') + values.map((v) => `<option>${esc(v)}</option>`).join('');
  if (values.includes(kept)) select.value = kept;
}

/** The colleges, cohorts and campaigns of the chosen site. */
async function loadOptions() {
  const site = /** @type {HTMLSelectElement} */ (el('f-site')).value || 'demo';
  const opts = await (await fetch(`/api/options?site=${encodeURIComponent(site)}`)).json();
  if (!el('f-site').childElementCount) fill('f-site', opts.sites.includes('demo') ? ['demo', ...opts.sites.filter((s) => s !== 'demo')] : opts.sites, false);
  fill('f-college', opts.colleges, true);
  fill('f-cohort', opts.cohorts, true);
  fill('f-campaign', opts.campaigns, true);
}

async function start() {
  el('f-site').addEventListener('change', () => { void loadOptions(); });
  for (const f of FILTERS) el(`f-${f}`).addEventListener('change', () => { void refresh(); });
  // The first panels need no options (the server's defaults are the filters' "all"): both at once.
  await Promise.all([loadOptions(), refresh()]);
  setInterval(() => { void refresh(); }, REFRESH_MS);
}

void start();
