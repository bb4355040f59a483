// Every golden case through each policy component transpiled to JavaScript by jco
// (@bytecodealliance/jco), compared with the host's decision; the manifest's extension facts reach
// the components that declare them (`evaluation-context.extensions`, since tollgate:policy@0.3.0),
// and the 0.4.0 facts (the `gxp` data class, signature meanings) reach them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { declaredExtensions, engines, here, loadCorpus } from './corpus.mjs';
import { evaluateWith, extensionsFor, fromWitMetadata } from '../../examples/embedding/jco.mjs';

const corpus = loadCorpus();
const modules = {};
const jcoOut = path.join(engines, 'jco');

function transpile(component, name) {
  const jco = path.join(here, 'node_modules', '.bin', 'jco');
  const dir = path.join(jcoOut, name);
  execFileSync(jco, ['transpile', component, '-o', dir, '--name', name, '--quiet']);
  return pathToFileURL(path.join(dir, `${name}.js`)).href;
}

before(async () => {
  mkdirSync(jcoOut, { recursive: true });
  // jco emits ES modules.
  writeFileSync(path.join(jcoOut, 'package.json'), '{"type": "module"}\n');
  for (const policy of corpus.policies) {
    modules[policy.id] = await import(transpile(path.join(engines, policy.component), policy.id));
  }
});

for (const policy of loadCorpus().policies) {
  test(`jco ${policy.id} metadata equals the host's`, () => {
    assert.deepEqual(fromWitMetadata(modules[policy.id].metadata()), policy.metadata);
  });
}

for (const c of corpus.cases) {
  test(`jco ${c.policy}::${c.name}`, () => {
    const got = evaluateWith(modules[c.policy], c.manifest_normalized, c.settings_json, c.now);
    assert.deepEqual(got, c.expected);
  });
}

test('jco the 0.4.0 facts reach a component: the gxp data class and signature meanings', () => {
  // SOX reads neither, so its decision stays the case's; a meaning that is none of the four is
  // refused by the lowering, so the field is part of the record the component receives.
  const c = corpus.cases.find((x) => x.policy === 'sox' && x.expected.decision
    && x.manifest_normalized.change.approvals.length);
  const manifest = structuredClone(c.manifest_normalized);
  manifest.change.data_classes = [...manifest.change.data_classes, 'gxp'];
  manifest.change.approvals = manifest.change.approvals.map((a) => ({ ...a, meaning: 'approval' }));
  assert.deepEqual(evaluateWith(modules.sox, manifest, c.settings_json, c.now), c.expected);
  manifest.change.approvals[0].meaning = 'consent';
  assert.throws(() => evaluateWith(modules.sox, manifest, c.settings_json, c.now));
});

test('jco the context carries the declared extension namespaces, sorted, as compact JSON', () => {
  const metadata = { extensions: [{ namespace: 'zeta' }, { namespace: 'acme' }] };
  const extensions = { zeta: { b: [1, 2], a: 'ü' }, other: { x: 1 }, acme: { release: { train: 'R7' } } };
  assert.deepEqual(extensionsFor(metadata, extensions), [
    { namespace: 'acme', facts: '{"release":{"train":"R7"}}' },
    { namespace: 'zeta', facts: '{"b":[1,2],"a":"ü"}' },
  ]);
  assert.deepEqual(extensionsFor({ controls: [] }, extensions), []);
});

test('jco extension facts reach the policies that declare them', (t) => {
  // The golden cases whose manifest holds a namespace its policy declares: each equals the host's
  // decision (above); withheld, the facts change at least one result, so they were read.
  const cases = corpus.cases.filter((c) => declaredExtensions(corpus, c).length);
  if (!cases.length) {
    // The probe below checks the facts' delivery without the corpus.
    t.skip('no golden case has extension facts for a policy that declares them');
    return;
  }
  const changed = cases.filter((c) => {
    const withheld = { ...c.manifest_normalized, extensions: {} };
    return !isDeepStrictEqual(evaluateWith(modules[c.policy], withheld, c.settings_json, c.now), c.expected);
  });
  assert.ok(changed.length, `withholding the extension facts changes none of ${cases.map((c) => c.name).join(', ')}`);
});

test('jco a 0.3.0 component receives exactly the declared extension facts', async () => {
  // extensions-probe/echo.js declares `beta` and `acme` and echoes what it receives as evidence.
  const url = transpile(path.join(engines, 'probe', 'echo.wasm'), 'echo');
  const echo = await import(url);
  const manifest = { ...corpus.cases[0].manifest_normalized, extensions: PROBE_EXTENSIONS };
  const { decision } = evaluateWith(echo, manifest, '', corpus.cases[0].now);
  assert.deepEqual(decision.controls[0].evidence, PROBE_EVIDENCE);
  // No risk model, no routing: no keys; the finding's references come from the catalogue.
  assert.equal('risk' in decision, false);
  assert.equal('routing' in decision, false);
  assert.deepEqual(decision.findings[0].references, [{ source: 'Tollgate contract', section: '0.3.0' }]);
  const metadata = fromWitMetadata(echo.metadata());
  assert.deepEqual(metadata.extensions.map((e) => e.namespace), ['beta', 'acme']);
  assert.match(metadata.settings_schema, /"mode"/);
  // A thrown `eval-error` variant is the `err` case; any other exception traps.
  assert.deepEqual(evaluateWith(echo, manifest, '{"mode":"fail"}', corpus.cases[0].now),
    { error: { kind: 'invalid_settings', message: 'mode `fail` asked for an error' } });
  const fresh = await import(`${url}?trap`);
  assert.throws(() => evaluateWith(fresh, manifest, '{"mode":"trap"}', corpus.cases[0].now), /unreachable/);
});

const PROBE_EXTENSIONS = { zulu: { undeclared: true }, beta: { k: [1, 'ü'] }, acme: { release: { train: 'R7' } } };
const PROBE_EVIDENCE = ['acme {"release":{"train":"R7"}}', 'beta {"k":[1,"ü"]}'];
