// The real Segment and RudderStack libraries (Node in process, Python as a subprocess),
// changed only in host and write key, against a real collector and the real broker:
// every message type is read back from Kafka with its kind, key, fields and dedup id; a
// wrong key is refused (and not retried); a 10 s outage (503 + Retry-After) makes every
// library retry until delivered, with no message lost or duplicated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';

import { SOURCES, build, readBack, sendPython, startCollector, startProxy } from './harness.mjs';

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
/** @type {Awaited<ReturnType<typeof startCollector>>} */
let collector;
/** @type {Awaited<ReturnType<typeof startProxy>>} */
let proxy;

before(async () => {
  build();
  collector = await startCollector();
  proxy = await startProxy(collector.url);
});

after(async () => {
  await proxy?.stop();
  await collector?.stop();
});

const CONTEXT = { ip: '198.51.100.20', traits: { college: 'IIT Bombay', cohort: '2026' } };

/**
 * Every message type through @segment/analytics-node; resolves once each was delivered
 * (its callback), with the errors reported.
 * @param {string} host @param {string} key @param {string} user
 */
async function sendSegmentNode(host, key, user) {
  const analytics = new Analytics({ writeKey: key, host, flushInterval: 200, maxRetries: 10 });
  /** @type {string[]} */
  const errors = [];
  analytics.on('error', (err) => errors.push(String(err?.reason ?? err)));
  const anon = `${user}-anon`;
  /** @type {Promise<void>[]} */
  const done = [];
  /** @param {(cb: (err?: unknown) => void) => void} call */
  const track = (call) => done.push(new Promise((resolve) => call((err) => { if (err) errors.push(String(err)); resolve(); })));
  track((cb) => analytics.identify({ userId: user, anonymousId: anon, traits: CONTEXT.traits, context: CONTEXT }, cb));
  track((cb) => analytics.track({ userId: user, event: 'Course Enrolled', properties: { course_id: 'c-9', revenue: 120.5, seats: 1 }, context: CONTEXT }, cb));
  track((cb) => analytics.page({ userId: user, category: 'Courses', name: 'Course', properties: { url: 'https://campus.example/c/9' }, context: CONTEXT }, cb));
  track((cb) => analytics.screen({ userId: user, name: 'Course Detail', context: CONTEXT }, cb));
  track((cb) => analytics.group({ userId: user, groupId: 'iit-bombay', traits: { name: 'IIT Bombay' }, context: CONTEXT }, cb));
  track((cb) => analytics.alias({ userId: user, previousId: anon, context: CONTEXT }, cb));
  await Promise.all(done);
  await analytics.closeAndFlush({ timeout: 60_000 });
  return { errors };
}

/**
 * The same through @rudderstack/rudder-sdk-node (retryCount raised from its default 3,
 * whose ~1.5 s of backoff does not outlast a 10 s outage).
 * @param {string} host @param {string} key @param {string} user
 */
async function sendRudderNode(host, key, user) {
  // @ts-ignore: the package's types declare a default export the CommonJS build provides
  /** @type {string[]} */
  const errors = [];
  const client = new RudderAnalytics(key, {
    dataPlaneUrl: host,
    flushInterval: 200,
    retryCount: 10,
    logLevel: 'error',
    // Without it, a refused flush is also an unhandled rejection of the library's timer.
    errorHandler: (/** @type {unknown} */ err) => errors.push(String(err)),
  });
  const anon = `${user}-anon`;
  /** @type {Promise<void>[]} */
  const done = [];
  /** @param {(cb: (err?: unknown) => void) => void} call */
  const track = (call) => done.push(new Promise((resolve) => call((err) => { if (err) errors.push(String(err)); resolve(); })));
  track((cb) => client.identify({ userId: user, anonymousId: anon, traits: CONTEXT.traits, context: CONTEXT }, cb));
  track((cb) => client.track({ userId: user, event: 'Course Enrolled', properties: { course_id: 'c-9', revenue: 120.5, seats: 1 }, context: CONTEXT }, cb));
  track((cb) => client.page({ userId: user, category: 'Courses', name: 'Course', properties: { url: 'https://campus.example/c/9' }, context: CONTEXT }, cb));
  track((cb) => client.screen({ userId: user, name: 'Course Detail', context: CONTEXT }, cb));
  track((cb) => client.group({ userId: user, groupId: 'iit-bombay', traits: { name: 'IIT Bombay' }, context: CONTEXT }, cb));
  track((cb) => client.alias({ userId: user, previousId: anon, context: CONTEXT }, cb));
  await client.flush().catch((/** @type {unknown} */ err) => errors.push(String(err)));
  await Promise.all(done);
  return { errors };
}

/** @type {Record<string, (host: string, key: string, user: string) => Promise<{errors: string[]}>>} */
const LIBRARIES = {
  'segment-node': sendSegmentNode,
  'rudder-node': sendRudderNode,
  'segment-python': (host, key, user) => sendPython('segment', host, key, user),
  'rudder-python': (host, key, user) => sendPython('rudder', host, key, user),
};

/** The name each kind of message gets in Sightline (proto/README.md, "JSON import"). */
const EXPECTED = [
  { kind: 'custom', name: '$identify' },
  { kind: 'custom', name: 'Course Enrolled' },
  { kind: 'page_view', name: 'Course' },
  { kind: 'page_view', name: 'Course Detail' },
  { kind: 'custom', name: '$group' },
  { kind: 'custom', name: '$alias' },
];

/** @param {any} record */
function nameOf(record) {
  const kind = record.collected?.event?.kind ?? {};
  return kind.Custom?.name ?? kind.PageView?.name;
}

/**
 * How often the collector accepted (200) each message id, in the proxy's log from `since`.
 * @param {number} since
 */
function acceptedIds(since) {
  /** @type {Map<string, number>} */
  const ids = new Map();
  for (const exchange of proxy.log.slice(since)) {
    if (exchange.status !== 200) continue;
    for (const id of exchange.messageIds) ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  return ids;
}

/**
 * Checks that every message the libraries sent for `users` is in Kafka exactly as often
 * as it was accepted (once: no duplicates, none lost), with its documented shape.
 * @param {Record<string, string>} users source → user id
 * @param {number} since the proxy log's length before the libraries sent
 */
function checkDelivered(users, since) {
  const records = readBack(Object.values(users));
  const rejected = records.filter((r) => r.rejected);
  assert.deepEqual(rejected.map((r) => r.rejected.detail), [], 'nothing dead-lettered');
  const accepted = acceptedIds(since);
  for (const [source, user] of Object.entries(users)) {
    const mine = records.filter((r) => r.collected?.source_name === source);
    const sent = new Set(proxy.log.slice(since).filter((e) => e.source === source).flatMap((e) => e.messageIds));
    assert.equal(sent.size, EXPECTED.length, `${source}: the library sent every type once`);
    assert.equal(mine.length, EXPECTED.length, `${source}: ${mine.length} records for ${sent.size} messages`);
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const record of mine) {
      const event = record.collected;
      counts.set(event.message_id, (counts.get(event.message_id) ?? 0) + 1);
      assert.ok(sent.has(event.message_id), `${source}: ${event.message_id} was sent`);
      assert.equal(record.key, user, `${source}: keyed by user id`);
      assert.equal(event.source, 1, `${source}: EventSource SERVER`);
      assert.ok(event.library_name.length > 0, `${source}: library name`);
      assert.equal(event.client_ip, '198.51.100.0', `${source}: trusted context.ip, truncated`);
      assert.match(event.event.event_id, /^[0-9a-f]{32}$/, `${source}: 16-byte event id`);
    }
    for (const [id, n] of counts) {
      assert.equal(n, 1, `${source}: ${id} delivered ${n} times`);
      assert.equal(accepted.get(id), 1, `${source}: ${id} accepted ${accepted.get(id)} times`);
    }
    const names = mine.map((r) => `${r.kind}:${nameOf(r)}`).sort();
    assert.deepEqual(names, EXPECTED.map((e) => `${e.kind}:${e.name}`).sort(), source);
    const track = mine.find((r) => nameOf(r) === 'Course Enrolled');
    const props = Object.fromEntries(track.collected.event.kind.Custom.properties.map((/** @type {any} */ p) => [p.key, p.value]));
    assert.deepEqual(props.course_id, { StringValue: 'c-9' }, source);
    assert.deepEqual(props.revenue, { NumberValue: 120.5 }, source);
    assert.deepEqual(props.seats, { IntValue: 1 }, source);
    const screen = mine.find((r) => nameOf(r) === 'Course Detail');
    assert.equal(screen.collected.event.kind.PageView.screen, true, `${source}: screen`);
    const identify = mine.find((r) => nameOf(r) === '$identify');
    assert.equal(identify.collected.identity.traits.college, 'IIT Bombay', `${source}: traits`);
  }
}

test('each library delivers every message type, as documented', async () => {
  /** @type {Record<string, string>} */
  const users = {};
  const since = proxy.log.length;
  for (const [source, send] of Object.entries(LIBRARIES)) {
    users[source] = `${source}-${run}`;
    const { errors } = await send(proxy.url, SOURCES[/** @type {keyof SOURCES} */ (source)], users[source]);
    assert.deepEqual(errors, [], `${source} reported errors`);
  }
  checkDelivered(users, since);
});

test('a wrong write key is refused with 401, not retried, and nothing is produced', async () => {
  /** @type {string[]} */
  const users = [];
  for (const [source, send] of Object.entries(LIBRARIES)) {
    const user = `${source}-wrongkey-${run}`;
    users.push(user);
    const before = proxy.log.length;
    const { errors } = await send(proxy.url, 'not-a-configured-write-key', user);
    const exchanges = proxy.log.slice(before);
    assert.ok(exchanges.length >= 1, `${source} sent`);
    assert.ok(exchanges.every((e) => e.status === 401), `${source}: ${exchanges.map((e) => e.status)}`);
    const ids = exchanges.flatMap((e) => e.messageIds);
    assert.equal(ids.length, 6, `${source}: every message sent once — a 401 is not retried`);
    assert.equal(new Set(ids).size, ids.length, `${source}: no message id sent twice`);
    assert.ok(errors.length > 0, `${source} reports the refusal`);
  }
  assert.deepEqual(readBack(users), [], 'nothing produced for a wrong key');
});

test('a 10 s outage (503 + Retry-After): every library retries, nothing lost or duplicated', async () => {
  /** @type {Record<string, string>} */
  const users = {};
  const started = Date.now();
  const before = proxy.log.length;
  proxy.failFor(10_000);
  const results = await Promise.all(Object.entries(LIBRARIES).map(([source, send]) => {
    users[source] = `${source}-outage-${run}`;
    return send(proxy.url, SOURCES[/** @type {keyof SOURCES} */ (source)], users[source]);
  }));
  const took = Date.now() - started;
  for (const [i, source] of Object.keys(LIBRARIES).entries()) {
    const exchanges = proxy.log.slice(before).filter((e) => e.source === source);
    const refused = exchanges.filter((e) => e.status === 503).length;
    const delivered = exchanges.filter((e) => e.status === 200).length;
    console.log(`# ${source}: ${refused} × 503 then ${delivered} × 200; errors reported: ${results[i].errors.length}`);
    assert.ok(refused >= 1, `${source} met the outage`);
    assert.ok(delivered >= 1, `${source} delivered after it`);
  }
  console.log(`# all four libraries delivered ${took} ms after the outage began (10 000 ms)`);
  assert.ok(took >= 10_000, 'delivery waited for the outage to end');
  checkDelivered(users, before);
});
