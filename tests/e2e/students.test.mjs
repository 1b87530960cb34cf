// End to end through the real path: demo site → SDK (script tag and npm/Vite) → collector →
// Kafka. Four simulated students browse; then independent consumers read every topic and
// the records must show exactly what the students did. Run by tests/e2e/run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { STUDENTS, runStudent } from './lib/students.mjs';
import { EVENTS_TOPIC, ONEOF_OF_KIND, kcatIndex, readAll } from './lib/kafka.mjs';
import { murmur2, partitionFor } from './lib/murmur2.mjs';

const SITE = required('E2E_SITE_URL');
const COLLECTOR = required('E2E_COLLECTOR_URL');
const BROKERS = required('SIGHTLINE_KAFKA');
const TAIL = required('SIGHTLINE_TAIL');
const ARTIFACTS = required('E2E_ARTIFACTS');
const PARTITIONS = 6;
// The MRC rule's 1 s, and a margin either side inside which the scenario would be ambiguous.
const VIEWABLE_MS = 1000;
const AMBIGUOUS_MS = 250;
// How long delivery to Kafka may take after the last page hide (beacons, batching, acks).
const DELIVERY_TIMEOUT_MS = 30000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/e2e/run.sh`);
  return value;
}

// Students are people: automation is hidden (navigator.webdriver false), as a person's browser
// reports it, and the browser's own agent is a desktop Chrome's, so the collector classifies
// their traffic VALID (tests/e2e/ivt.test.mjs covers the invalid kinds). The agent is set at
// launch as well as per student context: the page-hide beacon leaves after the page is gone
// and carries the browser's agent, not the context's override — headless Chromium's default
// says `HeadlessChrome`, a crawler to the collector, which made those records GIVT.
const BROWSER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-blink-features=AutomationControlled', `--user-agent=${BROWSER_AGENT}`],
};
// sightline.v1.TrafficClass.TRAFFIC_CLASS_VALID (the tail prints enums as numbers).
const VALID = 1;

const payload = (record) => record.collected.event.kind[ONEOF_OF_KIND[record.kind]];
const idOf = (record) => record.collected.event.event_id;

function groupBy(items, keyOf) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(item);
  }
  return groups;
}

// Records of one student, grouped per page session (= document), in document order, each
// with its page views in order and the records of each page view.
function sessionsOf(records) {
  const sessions = [...groupBy(records, (r) => r.collected.identity.page_session_id).entries()].map(([id, rs]) => {
    rs.sort((a, b) => Number(a.collected.event.seq) - Number(b.collected.event.seq));
    const pageViews = rs.filter((r) => r.kind === 'page_view');
    const byView = groupBy(rs, (r) => r.collected.event.page_view_id);
    return { id, records: rs, firstTs: Math.min(...rs.map((r) => Number(r.collected.event.client_ts_ms))), pageViews: pageViews.map((pv) => ({ pv, records: byView.get(pv.collected.event.page_view_id) ?? [] })) };
  });
  return sessions.sort((a, b) => a.firstTs - b.firstTs);
}

// Which student sent a record. Each student's browser context has its own storage, hence its
// own anonymous id; the context's user agent names the student, but only on requests made
// while the page is alive: Chromium sends page-hide beacons with the browser's agent
// (BROWSER_AGENT). So the user agent finds each student's anonymous id, and the anonymous id
// finds the records.
function studentsByAnonymousId(records, runId) {
  const owners = new Map();
  for (const r of records) {
    const match = r.collected?.user_agent?.match(new RegExp(`SightlineE2E/${runId}/(\\w+)$`));
    if (match) owners.set(r.collected.identity.anonymous_id, match[1]);
  }
  return owners;
}

// Batch requests (POST and preflight) the students' browsers made to the collector.
function batchRequests(students) {
  return students.flatMap((s) => s.requests).filter((url) => new URL(url).pathname === '/v1/batch').length;
}

// Batch requests the collector has answered, any status, from its own metrics. It answers
// 200 only after Kafka acknowledged every record, so a read of Kafka after this count sees
// every record of every request counted.
async function batchAnswers() {
  const text = await (await fetch(`${COLLECTOR}/metrics`)).text();
  return text.split('\n')
    .filter((line) => line.startsWith('sightline_collector_http_requests_total{') && line.includes('route="/v1/batch"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

// Waits for facts, not for quiet: every document's page views and final ad impressions (sent
// at page hide, the last thing a document sends) are in Kafka, and the collector has answered
// every batch request the browsers made. Every student has left (about:blank), so no SDK is
// left to send anything: what Kafka holds then is all there will be, and the assertions that
// something is absent (no duplicates, no impression for a slot not on the page) are final.
async function waitForRecords(runId, students) {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const answered = await batchAnswers();
    const sent = batchRequests(students);
    const all = await readAll({ tail: TAIL, brokers: BROKERS });
    const owners = studentsByAnonymousId(all, runId);
    const next = all.filter((r) => r.collected && owners.has(r.collected.identity?.anonymous_id));
    for (const r of next) r.student = owners.get(r.collected.identity.anonymous_id);
    // Complete when every document's page views are there and the last page view of each has
    // its FINAL ad impressions, which only leave at page hide (every page has ads).
    const complete = students.every((s) => {
      const sessions = sessionsOf(next.filter((r) => r.student === s.key));
      return sessions.length === s.docs.length && sessions.every((session, d) => {
        const last = session.pageViews.at(-1);
        return session.pageViews.length === s.docs[d].pageViews.length
          && last?.records.some((r) => r.kind === 'ad_impression' && payload(r).phase === 2);
      });
    });
    if ((complete && answered >= sent) || Date.now() > deadline) return { mine: next, all, sent, answered };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test('students browse the demo site and Kafka holds exactly their interactions', { timeout: 200000 }, async (t) => {
  assert.equal(murmur2(Buffer.from('21')), -973932308, 'murmur2 matches Kafka’s test vector');
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const browser = await chromium.launch(LAUNCH);
  let livePage;
  try {
    // /live is open during the whole run, as a newcomer would have it.
    livePage = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    await livePage.goto(`${SITE}/live`);

    const students = [];
    for (const student of STUDENTS) students.push(await runStudent(browser, SITE, student, runId));
    for (const s of students) assert.deepEqual(s.errors, [], `${s.key}: no uncaught page errors`);

    const { mine: received, all, sent, answered } = await waitForRecords(runId, students);
    // Delivery is at least once and consumers deduplicate by event_id; so does this test, once
    // the first subtest has checked that every duplicate is the documented one.
    const mine = [...groupBy(received, idOf).values()].map((copies) => copies[0]);
    const byStudent = new Map(students.map((s) => [s.key, mine.filter((r) => r.student === s.key)]));
    t.diagnostic(`run ${runId}: ${mine.length} records (${received.length - mine.length} duplicates): `
      + students.map((s) => `${s.key} ${byStudent.get(s.key).length}`).join(', ')
      + `; ${sent} batch requests seen by Playwright, ${answered} answered by the collector`);
    // Playwright does not see the beacons a page sends while it unloads: hence at least.
    assert.ok(sent > 0 && answered >= sent, `the collector answered every batch request (${answered} of ${sent})`);

    await t.test('both SDK distributions were loaded', () => {
      for (const s of students) {
        for (const doc of s.docs) {
          if (doc.distribution === 'npm') assert.ok(s.requests.some((u) => /\/assets\/.*\.wasm/.test(u)), `${s.key}: Vite-bundled wasm fetched from /assets/`);
          else assert.ok(s.requests.some((u) => u.includes('/sdk/')), `${s.key}: script-tag loader fetched the SDK from /sdk/`);
        }
      }
    });

    await t.test('duplicates only as documented, right topic, keyed by the right user, one partition per user', () => {
      // The one documented duplicate (sdk-wasm/README.md, "Page hide"): a request still in flight
      // when the page hides is also queued, and the student's next page sends it again. So an
      // event may arrive twice only from a page its student left for another one, never from
      // the last page (nothing runs after it to send anything again).
      const lastPage = new Map(students.map((s) => [s.key, sessionsOf(byStudent.get(s.key)).at(-1)?.id]));
      for (const copies of groupBy(received, idOf).values()) {
        if (copies.length === 1) continue;
        const [r] = copies;
        assert.equal(copies.length, 2, `${r.student}: event ${idOf(r)} delivered ${copies.length} times`);
        assert.notEqual(r.collected.identity.page_session_id, lastPage.get(r.student),
          `${r.student}: event ${idOf(r)} (${r.kind}) twice from the last page, which no later page resends`);
      }
      for (const r of received) {
        // The collector runs the default layout: one v2 record per request on the events topic.
        assert.equal(r.topic, EVENTS_TOPIC, `${r.kind} on ${r.topic}`);
        assert.ok(payload(r), `${r.kind} record carries a ${ONEOF_OF_KIND[r.kind]} payload`);
        const identity = r.collected.identity;
        const expectedKey = identity.user_id || identity.anonymous_id;
        assert.ok(expectedKey, 'every event has an anonymous id');
        assert.equal(r.key, expectedKey, 'record key = user id, else anonymous id');
        assert.equal(r.collected.user_key, expectedKey);
        assert.equal(r.partition, partitionFor(r.key, PARTITIONS), `key ${r.key} on murmur2 partition`);
        assert.match(r.collected.client_ip, /^127\.0\.0\.0$/, 'client IP truncated at the edge');
        assert.equal(r.collected.site_key, 'demo');
      }
      for (const [key, records] of groupBy(mine, (r) => r.key)) {
        assert.equal(new Set(records.map((r) => r.partition)).size, 1, `all of ${key}'s events in one partition`);
      }
    });

    await t.test('people browsing are valid traffic: no invalid-traffic reason on any record', () => {
      const agents = new Set(mine.map((r) => r.collected.user_agent.replace(/ SightlineE2E\/.*$/, '')));
      assert.deepEqual([...agents], [BROWSER_AGENT], 'page-hide beacons and page requests carry a desktop Chrome agent');
      for (const r of mine) {
        const reasons = (r.collected.ivt_reasons ?? []).map(Number);
        assert.equal(r.collected.traffic_class, VALID, `${r.student} ${r.kind} (${r.collected.user_agent}): reasons ${reasons}`);
        assert.deepEqual(reasons, [], `${r.student} ${r.kind}`);
      }
    });

    await t.test('kcat, an independent client, sees the same records under the same keys', async () => {
      const index = await kcatIndex({ brokers: BROKERS });
      for (const r of received) assert.equal(index.get(r.topic)?.get(`${r.partition}/${r.offset}`), r.key, `${r.topic} ${r.partition}/${r.offset}`);
    });

    await t.test('identity, traits and experiment variant on every student’s events', () => {
      for (const s of students) {
        const records = byStudent.get(s.key);
        assert.ok(records.length > 0, `${s.key} has events`);
        assert.equal(new Set(records.map((r) => r.collected.identity.anonymous_id)).size, 1, `${s.key}: one anonymous id`);
        for (const r of records) {
          // Only a document's first page view can precede the page's identify / setExperiment.
          const initialLoad = r.kind === 'page_view' && payload(r).navigation === 1;
          if (initialLoad) continue;
          assert.equal(r.collected.experiments.ad_placement, s.variant, `${s.key} ${r.kind}: variant`);
          assert.equal(r.collected.identity.user_id, s.userId ?? '', `${s.key} ${r.kind}: user id`);
          if (s.userId) assert.deepEqual({ ...r.collected.identity.traits }, s.traits, `${s.key}: traits`);
        }
      }
    });

    await t.test('sequence numbers are gap-free per page session', () => {
      for (const [session, records] of groupBy(mine, (r) => r.collected.identity.page_session_id)) {
        const seqs = records.map((r) => Number(r.collected.event.seq)).sort((a, b) => a - b);
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `page session ${session}`);
      }
    });

    await t.test('page views, searches, clicks, hovers and custom events are all there', () => {
      for (const s of students) {
        const records = byStudent.get(s.key);
        const sessions = sessionsOf(records);
        assert.equal(sessions.length, s.docs.length, `${s.key}: one page session per document`);
        sessions.forEach((session, i) => {
          const paths = session.pageViews.map(({ pv }) => new URL(payload(pv).url).pathname);
          assert.deepEqual(paths, s.docs[i].pageViews, `${s.key} document ${i + 1}: page views in order`);
        });
        const searches = records.filter((r) => r.kind === 'search').map((r) => ({ query: payload(r).query, count: payload(r).results_count }));
        assert.deepEqual(searches, s.searches, `${s.key}: searches`);
        const clicks = records.filter((r) => r.kind === 'click').map((r) => payload(r).element);
        // The exact element clicked: same tag, id and link target, and the same page rectangle.
        const near = (a, b) => Math.abs((a ?? 0) - b) <= 2;
        const isTarget = (el, want) => el.tag === want.tag && (el.id ?? '') === want.id && (el.href ?? '') === want.href
          && near(el.rect?.x, want.rect.x) && near(el.rect?.y, want.rect.y)
          && near(el.rect?.width, want.rect.width) && near(el.rect?.height, want.rect.height);
        for (const want of s.clicks) {
          // Clicks inside ads are asserted as AdClicks (below); the SDK may or may not add a Click.
          if (want.ad) continue;
          assert.equal(clicks.filter((el) => isTarget(el, want)).length, 1,
            `${s.key}: one click on ${want.selector} (${want.tag}#${want.id} at ${JSON.stringify(want.rect)}) recorded `
            + `(got ${clicks.map((c) => `${c.selector} ${JSON.stringify(c.rect)}`).join(' | ')})`);
        }
        const hovers = records.filter((r) => r.kind === 'hover').map((r) => payload(r));
        for (const selector of s.hovers) {
          const id = selector.slice(1);
          assert.ok(hovers.some((h) => (h.element.id === id || h.element.selector.includes(selector)) && h.dwell_ms >= 500), `${s.key}: hover on ${selector}`);
        }
        const custom = records.filter((r) => r.kind === 'custom').map((r) => payload(r).name);
        assert.deepEqual(custom, s.custom, `${s.key}: custom events`);
        for (const bottom of s.bottoms) {
          const view = sessions[bottom.doc].pageViews[bottom.pageView];
          const milestones = view.records.filter((r) => r.kind === 'scroll').map((r) => payload(r).milestone_pct);
          assert.ok(milestones.includes(100), `${s.key}: scrolled to the bottom → 100 % milestone (got ${milestones})`);
        }
      }
    });

    await t.test('ad clicks carry the positions of the clicked elements', () => {
      for (const s of students) {
        const adClicks = byStudent.get(s.key).filter((r) => r.kind === 'ad_click').map(payload);
        assert.equal(adClicks.length, s.adClicks.length, `${s.key}: one AdClick per ad clicked`);
        s.adClicks.forEach((expected, i) => {
          const got = adClicks[i];
          assert.equal(got.ad.slot_id, expected.slot);
          const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1, `${s.key} ${expected.slot}: ${what} ${a} vs ${b}`);
          near(got.in_ad.x, expected.inAd.x, 'in-ad x'); near(got.in_ad.y, expected.inAd.y, 'in-ad y');
          near(got.page.x, expected.page.x, 'page x'); near(got.page.y, expected.page.y, 'page y');
          near(got.page_rect.x, expected.rect.x, 'rect x'); near(got.page_rect.y, expected.rect.y, 'rect y');
          near(got.page_rect.width, expected.rect.width, 'rect width'); near(got.page_rect.height, expected.rect.height, 'rect height');
          assert.ok(got.page.x >= got.page_rect.x && got.page.x <= got.page_rect.x + got.page_rect.width, 'click inside the ad');
        });
      }
    });

    await t.test('ad impressions are viewable exactly for ads ≥ 50 % (30 % large) in view ≥ 1 s', () => {
      let viewable = 0;
      let notViewable = 0;
      for (const s of students) {
        const sessions = sessionsOf(byStudent.get(s.key));
        s.docs.forEach((doc, d) => {
          for (const truth of doc.truth) {
            const ambiguous = Math.abs(truth.maxContinuousMs - VIEWABLE_MS) < AMBIGUOUS_MS;
            assert.ok(!ambiguous, `${s.key} ${truth.slot}: ${Math.round(truth.maxContinuousMs)} ms in view is too close to 1 s for a clear verdict; fix the scenario's timing`);
            const view = sessions[d]?.pageViews[truth.pageView - 1];
            assert.ok(view, `${s.key} document ${d + 1}: page view ${truth.pageView} exists`);
            const impressions = view.records.filter((r) => r.kind === 'ad_impression' && payload(r).ad.slot_id === truth.slot).map(payload);
            const shouldBe = truth.maxContinuousMs >= VIEWABLE_MS;
            const label = `${s.key} ${truth.slot} (in view ${Math.round(truth.maxContinuousMs)} ms, max ${Math.round(truth.maxRatio * 100)} %)`;
            if (shouldBe) {
              viewable += 1;
              assert.equal(impressions.filter((i) => i.phase === 1).length, 1, `${label}: one VIEWABLE-phase impression`);
              const final = impressions.filter((i) => i.phase === 2);
              assert.equal(final.length, 1, `${label}: one FINAL impression`);
              assert.equal(final[0].viewable, true, `${label}: final says viewable`);
              assert.equal(new Set(impressions.map((i) => i.impression_id)).size, 1, `${label}: both phases share the impression id`);
            } else {
              notViewable += 1;
              assert.ok(impressions.every((i) => i.viewable === false && i.phase !== 1), `${label}: never viewable`);
            }
          }
        });
      }
      // …and no impression for a slot that was not on the page during that page view.
      for (const s of students) {
        sessionsOf(byStudent.get(s.key)).forEach((session, d) => {
          session.pageViews.forEach(({ records }, v) => {
            const onPage = new Set(s.docs[d].truth.filter((e) => e.pageView === v + 1).map((e) => e.slot));
            for (const r of records.filter((x) => x.kind === 'ad_impression')) {
              assert.ok(onPage.has(payload(r).ad.slot_id), `${s.key} document ${d + 1} page view ${v + 1}: impression for ${payload(r).ad.slot_id}, which was not on that page (${[...onPage]})`);
            }
          });
        });
      }
      t.diagnostic(`ad slots checked: ${viewable} viewable, ${notViewable} not viewable`);
      assert.ok(viewable > 0 && notViewable > 0, 'the scenarios exercise both outcomes');
    });

    await t.test('the live page shows the data, and a screenshot is saved', async () => {
      await livePage.waitForFunction(() => Number(document.getElementById('fig-adclicks').textContent.replace(/\D/g, '')) > 0
        && Number(document.getElementById('fig-viewable').textContent.replace(/\D/g, '')) > 0, null, { timeout: 15000 });
      const figures = await livePage.evaluate(() => Object.fromEntries(['events', 'users', 'viewable', 'adclicks', 'ctr'].map((k) => [k, document.getElementById(`fig-${k}`).textContent])));
      const events = Number(figures.events.replace(/\D/g, ''));
      assert.ok(events >= mine.length, `live page counts ${events} events, this run alone wrote ${mine.length}`);
      assert.ok(Number(figures.users) >= 1);
      assert.ok(await livePage.locator('#ctr tbody tr').count() > 0, 'CTR table has ad slots');
      const file = path.join(ARTIFACTS, 'live.png');
      await livePage.screenshot({ path: file, fullPage: true });
      t.diagnostic(`live page: ${JSON.stringify(figures)}; screenshot ${file}; ${all.length} records on the broker`);
    });
  } finally {
    await browser.close();
  }
});
