// The simulated students and what each does in the browser. Every action is recorded in
// `expect`, so the test can later demand exactly these interactions from Kafka.
//
// Timing rule that keeps viewability unambiguous: after anything that moves ads (load,
// navigation, scroll) the student either dwells DWELL_MS (well over the 1 s MRC rule) or
// moves on at once; the independent ad-truth observer then measures what really happened.
export const DWELL_MS = 1700;
const HOVER_MS = 900;

export const STUDENTS = [
  { key: 'asha', userId: 'stu-asha', traits: { college: 'IIT Madras', cohort: 'CSE-2027' }, variant: 'A', flow: searchThenCourses },
  { key: 'ravi', userId: 'stu-ravi', traits: { college: 'NIT Trichy', cohort: 'ECE-2026' }, variant: 'B', flow: deepLinkBackAndSearch },
  { key: 'meera', userId: 'stu-meera', traits: { college: 'BITS Pilani', cohort: 'MATH-2028' }, variant: 'A', flow: catalogueBrowse },
  { key: 'anon', userId: null, traits: {}, variant: 'B', flow: anonymousCatalogue },
];

class Recorder {
  constructor(page, site, student) {
    this.page = page;
    this.site = site;
    this.student = student;
    this.expect = { docs: [], searches: [], clicks: [], adClicks: [], hovers: [], custom: [], bottoms: [], requests: [] };
    page.on('request', (r) => this.expect.requests.push(r.url()));
  }
  get doc() { return this.expect.docs.at(-1); }
  async load(path, distribution) {
    this.expect.docs.push({ distribution, pageViews: [], truth: null });
    await this.page.goto(`${this.site}${path}`);
    await this.page.waitForSelector('#view main');
    this.doc.pageViews.push(new URL(this.page.url()).pathname);
  }
  spaNavigated() { this.doc.pageViews.push(new URL(this.page.url()).pathname); }
  async identify() {
    if (!this.student.userId) return;
    await this.page.selectOption('#student-select', this.student.userId);
  }
  dwell(ms = DWELL_MS) { return this.page.waitForTimeout(ms); }
  // What the SDK must report for a click on `selector`, read from the page just before the
  // click: tag, id, link target (scheme, host, path) and the page rectangle, which together
  // single out the one element (two chips or two course links differ at least by position).
  async clickTruth(selector, ad = false) {
    const element = await this.page.locator(selector).evaluate((e) => {
      const r = e.getBoundingClientRect();
      const link = e.closest('a[href]');
      return {
        tag: e.tagName.toLowerCase(), id: e.id, href: link ? link.origin + link.pathname : '',
        rect: { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height },
      };
    });
    this.expect.clicks.push({ selector, ad, ...element });
  }
  async click(selector) {
    const before = this.page.url();
    await this.clickTruth(selector);
    await this.page.click(selector);
    if (this.page.url() !== before) this.spaNavigated();
  }
  async hover(selector) {
    await this.page.hover(selector);
    await this.page.waitForTimeout(HOVER_MS);
    await this.page.mouse.move(5, 400); // leave: the SDK reports the dwell on the way out
    this.expect.hovers.push(selector);
  }
  async search(query) {
    await this.page.fill('#search-input', query);
    await this.page.press('#search-input', 'Enter');
    await this.page.waitForFunction((q) => new URLSearchParams(location.search).get('q') === q, query);
    const count = await this.page.locator('#results .result').count();
    this.expect.searches.push({ query, count });
    this.spaNavigated();
  }
  // Click inside an ad at a fraction of its size; records where, in page and ad coordinates.
  async clickAd(slot, fx, fy) {
    const el = this.page.locator(`[data-ad-slot="${slot}"]`);
    const box = await el.evaluate((e) => {
      const r = e.getBoundingClientRect();
      return { vx: r.left, vy: r.top, x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height };
    });
    const inAd = { x: Math.round(box.width * fx), y: Math.round(box.height * fy) };
    await this.clickTruth(`[data-ad-slot="${slot}"]`, true);
    await this.page.mouse.click(box.vx + inAd.x, box.vy + inAd.y);
    this.expect.adClicks.push({ slot, inAd, page: { x: box.x + inAd.x, y: box.y + inAd.y }, rect: box });
    // Every ad advertises a course of the site: the click lands on that course's page.
    await this.page.waitForSelector('#course-title');
    this.spaNavigated();
  }
  async scrollToBottom() {
    await this.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    this.expect.bottoms.push({ doc: this.expect.docs.length - 1, pageView: this.doc.pageViews.length - 1 });
  }
  async scrollTo(selector) {
    await this.page.locator(selector).scrollIntoViewIfNeeded();
  }
  async captureTruth() { this.doc.truth = await this.page.evaluate(() => window.__adTruth()); }
  // The final page hide: leaving the document fires pagehide / visibilitychange → hidden.
  async leave() {
    await this.captureTruth();
    await this.page.goto('about:blank');
  }
}

async function searchThenCourses(r) {
  await r.load('/?variant=A', 'script-tag');
  await r.identify();
  await r.dwell();
  await r.search('calculus');
  await r.dwell();
  await r.hover('#course-link-calc-2');
  await r.click('#course-link-calc-1');
  await r.dwell();
  await r.click('#enroll-button');
  r.expect.custom.push('enroll_click');
  await r.clickAd('course-calc-1-sidebar', 0.3, 0.6);
  await r.dwell();
  await r.scrollToBottom();
  await r.dwell();
  await r.leave();
}

async function deepLinkBackAndSearch(r) {
  await r.load('/courses/dsa?variant=B', 'script-tag');
  await r.identify();
  await r.dwell();
  await r.click('#related a.course-link >> nth=0');
  await r.dwell();
  await r.page.goBack();
  await r.page.waitForFunction(() => location.pathname === '/courses/dsa');
  r.spaNavigated();
  await r.dwell();
  // A full page load (header link): a new page session with its own sequence numbers.
  await r.captureTruth();
  await r.clickTruth('#nav-search');
  await r.page.click('#nav-search');
  r.expect.docs.push({ distribution: 'script-tag', pageViews: [], truth: null });
  await r.page.waitForSelector('#search-input');
  r.doc.pageViews.push(new URL(r.page.url()).pathname);
  await r.dwell();
  await r.search('python');
  await r.dwell();
  await r.clickAd('search-in-feed', 0.75, 0.25);
  await r.dwell();
  await r.leave();
}

async function catalogueBrowse(r) {
  await r.load('/catalogue?variant=A', 'npm');
  await r.identify();
  await r.dwell();
  await r.click('[data-subject="Mathematics"]');
  r.expect.custom.push('catalogue_filter');
  await r.dwell();
  await r.click('#course-link-linalg');
  await r.dwell();
  await r.clickAd('course-linalg-top-banner', 0.5, 0.5);
  await r.dwell();
  await r.scrollToBottom();
  await r.dwell();
  await r.leave();
}

async function anonymousCatalogue(r) {
  await r.load('/catalogue?variant=B', 'npm');
  await r.dwell();
  await r.scrollTo('[data-ad-slot="catalogue-in-feed"]');
  await r.dwell();
  await r.clickAd('catalogue-in-feed', 0.1, 0.9);
  // Leaves after half a second: the new page's ads are seen, but too briefly to be viewable.
  await r.dwell(400);
  await r.leave();
}

export async function runStudent(browser, site, student, runId) {
  // A complete desktop Chrome agent, as a person's browser sends.
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 SightlineE2E/${runId}/${student.key}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent });
  await context.addInitScript({ path: new URL('./ad-truth.js', import.meta.url).pathname });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const recorder = new Recorder(page, site, student);
  // The context stays open after the student leaves: closing it would cancel the page-hide
  // beacon if the collector has not answered yet (it answers once Kafka acknowledged). The
  // caller closes the browser once Kafka has everything.
  await student.flow(recorder);
  return { ...student, userAgent, errors, ...recorder.expect };
}
