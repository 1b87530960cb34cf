// The TCF v2.2 → consent purposes mapping of the optional module sdk-wasm/js/modules/tcf.js
// (`mapping`), table-driven in Node without a browser. `mapping` returns a given word of the
// core's privacy state (sdk-wasm/src/core/privacy.rs: 2 bits per purpose, 1 granted,
// 2 denied); decoded here to [measurement, personalization, storage].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configuredVendor, mapping } from '../../sdk-wasm/js/modules/tcf.js';

const set = (...purposes) => Object.fromEntries(purposes.map((n) => [n, true]));
const all = set(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
const tc = (consents, li = {}) => ({ gdprApplies: true, purpose: { consents, legitimateInterests: li } });
const purposes = (word) => (word ? [word & 3, (word >> 2) & 3, (word >> 4) & 3] : null);

test('TCF purposes map to measurement, personalization and storage', () => {
  const cases = [
    ['everything consented', tc(all), [1, 1, 1]],
    ['GDPR does not apply: TCF does not restrict', { gdprApplies: false }, [1, 1, 1]],
    ['the CMP does not say whether GDPR applies: no change', { purpose: { consents: all } }, null],
    ['purpose 1 refused: no storage', tc(set(3, 4, 7, 8, 9)), [1, 1, 2]],
    ['measurement by legitimate interest only', tc({}, set(7, 8, 9)), [1, 2, 2]],
    ['one of 7/8/9 missing: no measurement', tc(set(1, 3, 4, 7, 8)), [2, 1, 1]],
    ['personalization needs 3 and 4 by consent (no legitimate interest)', tc(set(1, 3, 7, 8, 9), set(4)), [1, 2, 1]],
    ['nothing at all', tc({}), [2, 2, 2]],
  ];
  for (const [name, data, expected] of cases) assert.deepEqual(purposes(mapping(data)), expected, name);
});

test('a configured vendor id must be allowed too (per-vendor consent)', () => {
  const vendor = 1234;
  const withVendor = (consents, li) => ({ ...tc(all), vendor: { consents, legitimateInterests: li } });
  const cases = [
    ['vendor consented', withVendor({ [vendor]: true }, {}), [1, 1, 1]],
    ['vendor refused: nothing for it', withVendor({}, {}), [2, 2, 2]],
    ['another vendor consented, not this one', withVendor({ 99: true }, { 99: true }), [2, 2, 2]],
    ['vendor by legitimate interest only: measurement, no storage or personalization', withVendor({}, { [vendor]: true }), [1, 2, 2]],
    ['no vendor section from the CMP: refused', tc(all), [2, 2, 2]],
    ['purposes refused although the vendor is allowed', { ...tc({}), vendor: { consents: { [vendor]: true } } }, [2, 2, 2]],
    ['GDPR does not apply: the vendor check does not either', { gdprApplies: false }, [1, 1, 1]],
  ];
  for (const [name, data, expected] of cases) assert.deepEqual(purposes(mapping(data, vendor)), expected, name);
  assert.deepEqual(purposes(mapping(tc(all), 0)), [1, 1, 1], 'no vendor configured: purposes only');
});

test('the vendor id is read from <meta name="sightline-tcf-vendor">', () => {
  const doc = (content) => ({
    querySelector: (selector) => (content === undefined || selector !== 'meta[name="sightline-tcf-vendor"]' ? null
      : { getAttribute: (name) => (name === 'content' ? content : null) }),
  });
  assert.equal(configuredVendor(doc('1234')), 1234);
  assert.equal(configuredVendor(doc(undefined)), 0, 'no meta: no vendor check');
  for (const bad of ['', 'abc', '-5', '1.5', '0']) assert.equal(configuredVendor(doc(bad)), 0, `content ${JSON.stringify(bad)}`);
});
