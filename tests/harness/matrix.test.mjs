// The support matrix, tested: every scenario of scenarios.mjs in every engine of engines.mjs
// (SIGHTLINE_ENGINES=chromium,firefox,webkit by default; SIGHTLINE_SCENARIOS=smoke for the
// `make test` subset). Each result must equal the committed tests/harness/matrix.json (the
// differences between engines are by design and stated there), and sdk-wasm/README.md's
// "Browser support" section must be that file rendered (render-matrix.mjs). After a deliberate
// change: SIGHTLINE_WRITE_MATRIX=1 (full set) rewrites both from this run's results (engines not
// run keep their committed results).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { startRecorder } from '../browser/harness.mjs';
import { ENGINES, openPage, missing, stopDisplay } from './engines.mjs';
import { SCENARIOS } from './scenarios.mjs';
import { MATRIX, README, render, readmeSection, writeReadme } from './render-matrix.mjs';

const engines = (process.env.SIGHTLINE_ENGINES || ENGINES.join(',')).split(',');
const smoke = process.env.SIGHTLINE_SCENARIOS === 'smoke';
const write = process.env.SIGHTLINE_WRITE_MATRIX === '1';
const scenarios = SCENARIOS.filter((s) => !smoke || s.smoke);
const committed = JSON.parse(readFileSync(MATRIX, 'utf8'));
const observed = { engines: {}, features: [] };

let recorder;
before(async () => { recorder = await startRecorder(); });
after(async () => {
  recorder?.stop();
  await stopDisplay();
});

for (const engine of engines) {
  for (const scenario of scenarios) {
    test(`${engine}: ${scenario.id}`, async (t) => {
      assert.deepEqual(missing(engine), [], `${engine} is not installed (scripts/ensure.sh browsers)`);
      // A scenario that names this engine in `retryEngines` gets two more tries, each in a
      // fresh browser (scenarios.mjs says why); every failed try is printed, a third one fails.
      const attempts = scenario.retryEngines?.includes(engine) ? 3 : 1;
      let results;
      for (let attempt = 1; !results; attempt++) {
        await recorder.control('reset=1');
        const page = await openPage(engine);
        try {
          results = await scenario.run(page, recorder);
        } catch (error) {
          if (attempt >= attempts) throw error;
          t.diagnostic(`${engine}: ${scenario.id}: attempt ${attempt} of ${attempts} failed, retrying in a fresh browser: ${error.message}`);
        } finally {
          await page.close();
        }
      }
      for (const result of results) {
        const row = (observed.engines[engine] ??= {});
        const { feature, ...outcome } = result;
        const known = committed.engines[engine]?.[feature];
        // An intermittent degradation (stated so in matrix.json) may also be seen working.
        row[feature] = known?.intermittent && outcome.status === 'ok' ? known : outcome;
        if (!observed.features.includes(feature)) observed.features.push(feature);
        if (!write) {
          assert.deepEqual(row[feature], known, `${engine}, ${feature}: observed differs from tests/harness/matrix.json`);
        }
      }
    });
  }
}

test('sdk-wasm/README.md shows tests/harness/matrix.json', () => {
  if (write) {
    // The engines of this run replace theirs; the others keep their committed rows (one
    // engine at a time is kinder to a 2-core machine).
    assert.ok(!smoke, 'SIGHTLINE_WRITE_MATRIX=1 needs the full set of scenarios');
    const merged = { engines: {}, features: [...observed.features] };
    for (const engine of ENGINES) {
      const row = observed.engines[engine] ?? committed.engines[engine];
      if (row) merged.engines[engine] = row;
      for (const feature of Object.keys(row ?? {})) if (!merged.features.includes(feature)) merged.features.push(feature);
    }
    writeFileSync(MATRIX, `${JSON.stringify(merged, null, 2)}\n`);
    writeReadme(merged);
  }
  assert.equal(readmeSection(readFileSync(README, 'utf8')), render(JSON.parse(readFileSync(MATRIX, 'utf8'))),
    'run SIGHTLINE_WRITE_MATRIX=1 make test-browsers after a deliberate change');
});
