// The three views (search, course, catalogue) as HTML strings. Each view owns its ad slots;
// slot ids name the view and placement so heatmaps and CTR tables read naturally.
import { COURSES, VARIANTS, courseById, relatedCourses, searchCourses } from './data.js';
import { adSlot } from './ads.js';
import { coursePreview, inFeedVideoAd } from './video-ads.js';
import { escapeHtml } from './html.js';

// The in-feed video ad (video-ads.js) follows this search result.
const IN_FEED_VIDEO_AFTER = 5;

function courseLink(base, course, cls = 'course-link') {
  return `<a class="${cls}" id="course-link-${course.id}" href="${base}/courses/${course.id}" data-nav>${escapeHtml(course.title)}</a>`;
}

function stars(rating) {
  return `<span class="rating" aria-label="rated ${rating}">★ ${rating.toFixed(1)}</span>`;
}

function trending(base) {
  const picks = COURSES.slice(4, 10);
  return `<section class="trending">
    <h2>Trending with students this week</h2>
    <ol>${picks.map((c) => `<li>${courseLink(base, c)} <span class="muted">${c.subject} · ${c.weeks} weeks</span></li>`).join('')}</ol>
    <p class="muted">Study groups, notes and past papers are added every week by students and faculty.</p>
  </section>`;
}

// Full width under both columns: the 970×250 billboard needs the room.
function belowFold(base, prefix) {
  return `<section class="below-fold-block">${adSlot(base, `${prefix}-billboard`, 'below_fold')}</section>`;
}

function sidebar(base, prefix, variant) {
  const sticky = VARIANTS[variant].stickySidebar ? 'sticky' : '';
  return `<aside class="sidebar">
    <div class="widget"><h3>Upcoming deadlines</h3><ul><li>Mid-sem registration · 3 days</li><li>Scholarship essays · 9 days</li><li>Internship fair · 12 days</li></ul></div>
    ${adSlot(base, `${prefix}-sidebar`, 'sidebar', sticky)}
  </aside>`;
}

export function searchView({ base, query, variant }) {
  const results = searchCourses(query);
  const after = VARIANTS[variant].inFeedAfter;
  const items = results.map((c, i) => {
    const row = `<li class="result">
      <div>${courseLink(base, c)} ${stars(c.rating)}</div>
      <div class="muted">${c.subject} · ${c.level} · ${c.weeks} weeks · ${c.tags.map(escapeHtml).join(', ')}</div>
    </li>`;
    const withAd = i + 1 === after ? row + `<li class="result-ad">${adSlot(base, 'search-in-feed', 'in_feed')}</li>` : row;
    return i + 1 === IN_FEED_VIDEO_AFTER ? withAd + inFeedVideoAd('search-in-feed-video') : withAd;
  });
  const heading = query ? `${results.length} courses for “${escapeHtml(query)}”` : `All ${results.length} courses`;
  return {
    results,
    html: `${adSlot(base, 'search-top-banner', 'top_banner')}
    <div class="columns"><main>
      <form class="search" id="search-form" role="search">
        <input id="search-input" name="q" type="search" placeholder="Search courses, e.g. calculus" value="${escapeHtml(query)}" autocomplete="off">
        <button id="search-button" type="submit">Search</button>
      </form>
      <h1 id="results-heading">${heading}</h1>
      <ul class="results" id="results">${items.join('') || '<li class="muted">No courses match. Try “python” or “math”.</li>'}</ul>
      ${trending(base)}
    </main>${sidebar(base, 'search', variant)}</div>
    ${belowFold(base, 'search')}
    ${adSlot(base, 'search-sticky-footer', 'sticky_footer')}`,
  };
}

export function courseView({ base, id, variant }) {
  const course = courseById(id);
  if (!course) {
    return { html: `<div class="columns"><main><h1>Course not found</h1><p><a href="${base}/" data-nav>Back to search</a></p></main></div>` };
  }
  const weeks = Array.from({ length: Math.min(course.weeks, 8) }, (_, i) => `<li>Week ${i + 1}: ${escapeHtml(course.tags[i % course.tags.length])} — lectures, problem set, quiz</li>`);
  const related = relatedCourses(course);
  return {
    course,
    html: `${adSlot(base, `course-${course.id}-top-banner`, 'top_banner')}
    <div class="columns"><main>
      <p class="crumbs"><a href="${base}/" data-nav>Home</a> › ${escapeHtml(course.subject)}</p>
      <h1 id="course-title">${escapeHtml(course.title)}</h1>
      <p>${stars(course.rating)} <span class="muted">${course.level} · ${course.weeks} weeks · taught by faculty from partner colleges</span></p>
      <button id="enroll-button" class="primary" data-track="enroll">Enrol for free</button>
      <h2>Syllabus</h2><ol class="syllabus">${weeks.join('')}</ol>
      <h2>Related courses</h2>
      <ul class="related" id="related">${related.map((c) => `<li>${courseLink(base, c)}</li>`).join('')}</ul>
      <h2>Course preview</h2>
      ${coursePreview(course)}
      ${trending(base)}
    </main>${sidebar(base, `course-${course.id}`, variant)}</div>
    ${belowFold(base, `course-${course.id}`)}
    ${adSlot(base, `course-${course.id}-sticky-footer`, 'sticky_footer')}`,
  };
}

export function catalogueView({ base, subject, variant }) {
  const subjects = [...new Set(COURSES.map((c) => c.subject))];
  const shown = COURSES.filter((c) => !subject || c.subject === subject);
  const after = VARIANTS[variant].inFeedAfter;
  const cards = shown.map((c, i) => {
    const card = `<div class="card">${courseLink(base, c)}<div class="muted">${c.subject} · ${c.level}</div>${stars(c.rating)}</div>`;
    return i + 1 === after ? card + `<div class="card card-ad">${adSlot(base, 'catalogue-in-feed', 'in_feed')}</div>` : card;
  });
  return {
    html: `${adSlot(base, 'catalogue-top-banner', 'top_banner')}
    <div class="columns"><main>
      <h1>Course catalogue</h1>
      <div class="chips" id="subject-chips">
        <button class="chip ${subject ? '' : 'active'}" data-subject="">All</button>
        ${subjects.map((s) => `<button class="chip ${s === subject ? 'active' : ''}" data-subject="${escapeHtml(s)}">${escapeHtml(s)}</button>`).join('')}
      </div>
      <div class="grid" id="catalogue-grid">${cards.join('')}</div>
      ${trending(base)}
    </main>${sidebar(base, 'catalogue', variant)}</div>
    ${belowFold(base, 'catalogue')}
    ${adSlot(base, 'catalogue-sticky-footer', 'sticky_footer')}`,
  };
}
