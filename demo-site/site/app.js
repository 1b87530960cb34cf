// CampusLearn, the demo site: one small SPA shared by both pages. The page that embeds it
// passes `sdk`, a thin object over whichever SDK distribution it loaded (script tag or npm),
// so the site code is identical and only the loading differs.
//
//   sdk = { identify(userId, traits), setExperiment(name, variant), search(query, count),
//           track(name, props) }
import { EXPERIMENT, STUDENTS, VARIANTS, slugOf, subjectFromSlug } from './data.js';
import { catalogueView, courseView, searchView } from './views.js';
import { currentStudent, currentVariant, setStudent, setVariant } from './state.js';
import { escapeHtml } from './html.js';
import { mountVideoAds } from './video-ads.js';
import { fillPendingSlots } from './decide.js';
import { decideUrl } from './ads.js';

// Back/forward changes the URL before any script runs. The router unmounts the old view in the
// first popstate listener of the page — registered when this module is imported, before the SDK
// is initialized — so the SDK, which starts the new page view in its own popstate listener,
// never sees the old view's ad slots under the new page view (it would count each once more,
// as a 0 ms impression). The script-tag page registers the same listener inline in <head>.
export function unmountOnPopstate() {
  document.getElementById('view')?.replaceChildren();
}
window.addEventListener('popstate', unmountOnPopstate);

export function startDemo({ root, sdk, base, home, distribution }) {
  let variant = currentVariant();
  sdk.setExperiment(EXPERIMENT, variant);
  const student = currentStudent();
  if (student) sdk.identify(student.id, { college: student.college, cohort: student.cohort });

  root.innerHTML = `<header class="topbar">
      <a class="logo" href="/">Campus<span>Learn</span></a>
      <nav><a href="/" id="nav-search">Search</a><a href="/catalogue" id="nav-catalogue">Catalogue</a><a href="/live" id="nav-live" target="_blank">Live data ↗</a></nav>
      <label class="switcher">Student
        <select id="student-select">
          <option value="">Anonymous visitor</option>
          ${STUDENTS.map((s) => `<option value="${s.id}">${escapeHtml(s.name)} — ${escapeHtml(s.college)}, ${s.cohort}</option>`).join('')}
        </select></label>
      <div class="experiment" role="group" aria-label="Ad placement experiment">
        <span>Ad layout</span>
        ${Object.keys(VARIANTS).map((v) => `<button class="variant" id="variant-${v}" data-variant="${v}" title="${escapeHtml(VARIANTS[v].label)}">${v}</button>`).join('')}
      </div>
    </header>
    <div class="distribution">SDK loaded via <b>${escapeHtml(distribution)}</b></div>
    <div id="view"></div>`;

  const view = root.querySelector('#view');
  const select = root.querySelector('#student-select');
  select.value = student?.id ?? '';

  function markVariant() {
    root.querySelectorAll('.variant').forEach((b) => b.classList.toggle('active', b.dataset.variant === variant));
  }
  markVariant();

  function route() {
    const path = location.pathname.slice(base.length) || '/';
    const params = new URLSearchParams(location.search);
    const course = path.match(/^\/courses\/([\w-]+)\/?$/);
    if (course) return courseView({ base, id: course[1], variant });
    if (home === 'catalogue') {
      const subject = path.match(/^\/subject\/([\w-]+)\/?$/);
      return catalogueView({ base, subject: subject ? subjectFromSlug(subject[1]) : '', variant });
    }
    return searchView({ base, query: path.startsWith('/search') ? params.get('q') ?? '' : '', variant });
  }

  // Each render is a generation: a decision answering after the view changed is dropped.
  let generation = 0;
  function render() {
    const { html, results } = route();
    view.innerHTML = html;
    mountVideoAds(view);
    const rendered = ++generation;
    fillPendingSlots(view, base, () => rendered === generation);
    return results;
  }

  // SPA navigation in three steps, like a router that unmounts before it mounts: the old
  // view (and its ad slots) goes, the URL changes (the SDK ends the old page view and starts a
  // new one), then the new view's ad slots appear and belong to the new page view only.
  function navigate(url) {
    view.replaceChildren();
    history.pushState(null, '', url);
    window.scrollTo(0, 0);
    return render();
  }

  root.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-nav]');
    if (link && event.button === 0 && !event.metaKey && !event.ctrlKey) {
      event.preventDefault();
      navigate(link.getAttribute('href'));
      return;
    }
    const chip = event.target.closest('[data-subject]');
    if (chip) {
      const subject = chip.dataset.subject;
      sdk.track('catalogue_filter', { subject: subject || 'all' });
      // Subjects are pages of their own (/catalogue/subject/mathematics), like category pages.
      navigate(subject ? `${base}/subject/${slugOf(subject)}` : `${base || '/'}`);
      return;
    }
    const variantButton = event.target.closest('[data-variant]');
    if (variantButton && variantButton.dataset.variant !== variant) {
      variant = variantButton.dataset.variant;
      setVariant(variant);
      sdk.setExperiment(EXPERIMENT, variant);
      markVariant();
      render();
      return;
    }
    if (event.target.closest('#enroll-button')) {
      const title = document.querySelector('#course-title');
      sdk.track('enroll_click', { course: location.pathname.split('/').pop(), has_title: Boolean(title) });
      event.target.closest('#enroll-button').textContent = 'Enrolled ✓';
    }
  });

  root.addEventListener('submit', (event) => {
    if (event.target.id !== 'search-form') return;
    event.preventDefault();
    const query = new FormData(event.target).get('q')?.toString().trim() ?? '';
    const results = navigate(`${base}/search?q=${encodeURIComponent(query)}`);
    sdk.search(query, results?.length ?? 0);
  });

  select.addEventListener('change', () => {
    const chosen = STUDENTS.find((s) => s.id === select.value);
    setStudent(chosen?.id ?? null);
    if (chosen) {
      sdk.identify(chosen.id, { college: chosen.college, cohort: chosen.cohort });
      // With sightline-decide the ads are decided per student: the view's slots are asked
      // again for the new one. Without it the static ads do not depend on the student, and the
      // view stays as it is (a re-render replaces every slot element mid-page-view).
      if (decideUrl()) render();
    } else {
      // Signing out: a fresh page load starts an anonymous page session.
      location.reload();
    }
  });

  // Back/forward: unmounted by unmountOnPopstate (below), mounted on the next task.
  window.addEventListener('popstate', () => setTimeout(render, 0));
  render();
}
