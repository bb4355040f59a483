// Every golden case through each policy built as an OPA Wasm ABI 1.3 module, in OPA's Node SDK
// (@open-policy-agent/opa-wasm), compared with the host's decision; the three entrypoints agree;
// 10,000 evaluations on one loaded instance keep its memory flat. Uses examples/embedding/opa.mjs,
// the snippet docs/opa.md quotes. The modules are written by `tollgate policies --export DIR --format
// opa-wasm` (tests/engines/run).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { engines, loadCorpus, sameAsHost } from './corpus.mjs';
import { evaluateWith, loadTollgatePolicy } from '../../examples/embedding/opa.mjs';

const corpus = loadCorpus();
const policies = {};
const wasm = (id) => readFileSync(path.join(engines, 'opa', `${id}.wasm`));

before(async () => {
  for (const policy of corpus.policies) {
    policies[policy.id] = await loadTollgatePolicy(loadPolicy, wasm(policy.id));
  }
});

const denying = (decision) =>
  decision.findings
    .filter((f) => f.severity === 'high' || f.severity === 'critical')
    .map((f) => `${f.control_id}: ${f.message} (${f.rule_id})`);

for (const c of corpus.cases) {
  test(`opa-js ${c.policy}::${c.name}`, () => {
    const policy = policies[c.policy];
    const got = evaluateWith(policy, c.policy, c.manifest, c.settings, c.now);
    sameAsHost(got, c.expected, assert);
    if (got.decision) {
      const allow = policy.evaluate(c.manifest, `tollgate/${c.policy}/allow`);
      assert.deepEqual(allow, [{ result: got.decision.outcome === 'approved' }]);
      const deny = policy.evaluate(c.manifest, `tollgate/${c.policy}/deny`);
      assert.deepEqual(deny, [{ result: denying(got.decision) }]);
    }
  });
}

for (const policy of corpus.policies) {
  test(`opa-js ${policy.id} entrypoints and ABI version`, () => {
    const loaded = policies[policy.id];
    assert.deepEqual(Object.keys(loaded.entrypoints).sort(), ['allow', 'decision', 'deny'].map((e) => `tollgate/${policy.id}/${e}`));
    assert.equal(loaded.entrypoints[`tollgate/${policy.id}/decision`], 0);
    // The SDK throws on a major version other than 1 and keeps the minor one (1.2+: `opa_eval`).
    assert.equal(loaded.minorVersion, 3);
    const { exports } = loaded.wasmInstance;
    assert.equal(exports.opa_wasm_abi_version.value, 1);
    assert.equal(exports.opa_wasm_abi_minor_version.value, 3);
  });
}

test('opa-js an invalid manifest aborts naming the field, never a result', () => {
  const c = corpus.cases.find((x) => x.policy === 'sox' && x.expected.decision);
  const manifest = { ...c.manifest, change: { ...c.manifest.change } };
  manifest.change.ticket_stauts = manifest.change.ticket_status;
  delete manifest.change.ticket_status;
  const got = evaluateWith(policies.sox, 'sox', manifest, null, c.now);
  assert.equal(got.error?.kind, 'invalid_manifest');
  assert.match(got.error.message, /change\.ticket_stauts/);
  assert.throws(() => policies.sox.evaluate(manifest, 'tollgate/sox/allow'), /invalid manifest/);
});

test('opa-js invalid settings abort, never a silent allow', () => {
  const c = corpus.cases.find((x) => x.policy === 'sox' && x.expected.decision);
  const got = evaluateWith(policies.sox, 'sox', c.manifest, { key_rotation_max_days: 'soon' }, c.now);
  assert.equal(got.error?.kind, 'invalid_settings');
  assert.match(got.error.message, /key_rotation_max_days/);
});

test('opa-js without data.tollgate.now the host clock (time.now_ns) is asked', async () => {
  const c = corpus.cases.find((x) => x.policy === 'sox' && x.expected.decision);
  let asked = 0;
  const policy = await loadPolicy(wasm('sox'), undefined, {
    'time.now_ns': () => {
      asked += 1;
      return Date.parse(c.now) * 1e6;
    },
  });
  const [{ result }] = policy.evaluate(c.manifest, 'tollgate/sox/decision');
  assert.equal(asked, 1);
  assert.deepEqual(result, c.expected.decision);
  // Without the built-in the SDK cannot answer: an error, not an approval.
  const clockless = await loadPolicy(wasm('sox'));
  assert.throws(() => clockless.evaluate(c.manifest, 'tollgate/sox/allow'));
});

test('opa-js 10,000 evaluations on one instance keep memory flat', (t) => {
  const c = corpus.cases.find((x) => x.policy === 'sox' && x.expected.decision);
  const policy = policies.sox;
  policy.setData({ tollgate: { now: c.now } });
  for (let i = 0; i < 100; i += 1) policy.evaluate(c.manifest, 0);
  const before = policy.mem.buffer.byteLength;
  for (let i = 0; i < 10_000; i += 1) policy.evaluate(c.manifest, 0);
  const after = policy.mem.buffer.byteLength;
  t.diagnostic(`linear memory after 100 evaluations ${before} bytes, after 10,100 ${after} bytes`);
  assert.equal(after, before);
});
