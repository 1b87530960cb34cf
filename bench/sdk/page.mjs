// The benchmark page: a course catalogue with a nav that navigates client-side (SPA),
// buttons and links to click, cards to hover, three ad slots and enough height to
// scroll. The same HTML with and without the SDK snippet, so the difference between the
// two runs is the SDK alone.

const cards = Array.from({ length: 12 }, (_, i) => `
  <article class="card" data-track="course-${i + 1}">
    <h3>Course ${i + 1}</h3>
    <p>Algorithms, data structures and systems, lesson plan ${i + 1}.</p>
    <button class="enrol" type="button">Enrol</button>
  </article>`).join('');

const ad = (n, top) => `
  <div class="ad" style="top:${top}px" data-ad-slot="slot-${n}" data-ad-creative="cr-${n}0"
       data-ad-campaign="camp-autumn" data-ad-placement="pl-${n}">
    <a href="#ad-${n}">Ad ${n}</a>
  </div>`;

/** The page; `snippet` is the script-tag loader (or empty for the run without SDK). */
export function page(snippet) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Catalogue</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
  // Long tasks of the whole page, recorded before anything else runs.
  window.__longtasks = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) {}
</script>
${snippet}
<style>
  body { font-family: sans-serif; margin: 0; }
  nav a { margin: 0 12px; }
  main { position: relative; height: 5200px; padding: 16px; }
  .card { display: inline-block; width: 260px; height: 160px; margin: 8px; border: 1px solid #ccc; vertical-align: top; }
  .ad { position: absolute; right: 16px; width: 300px; height: 250px; background: #fde; }
</style></head>
<body>
<nav><a href="/" data-spa>Home</a><a href="/courses" data-spa>Courses</a><a href="/pricing" data-spa>Pricing</a></nav>
<main>
  <section class="hero"><h1 id="title">Catalogue</h1><button id="cta" type="button">Start learning</button></section>
  ${cards}
  ${ad(1, 120)}${ad(2, 1800)}${ad(3, 3600)}
</main>
<script>
  // A minimal client-side router: nav links change the URL with pushState.
  document.querySelectorAll('a[data-spa]').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    history.pushState({}, '', a.getAttribute('href'));
    document.getElementById('title').textContent = a.textContent;
    window.scrollTo(0, 0);
  }));
  document.querySelectorAll('.ad a').forEach((a) => a.addEventListener('click', (e) => e.preventDefault()));
</script>
</body></html>`;
}
