// The TCF v2.2 → consent purposes mapping of the optional module sdk-wasm/js/modules/tcf.js
// (`mapping`), table-driven in Node without a browser. `mapping` returns a given word of the
// core's privacy state (sdk-wasm/src/core/privacy.rs: 2 bits per purpose, 1 granted,
// 2 denied); decoded here to [measurement, personalization, storage].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapping } from '../../sdk-wasm/js/modules/tcf.js';

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
