// Every golden case through each policy component transpiled to JavaScript by jco
// (@bytecodealliance/jco), compared with the host's decision.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { engines, here, loadCorpus } from './corpus.mjs';
import { evaluateWith, fromWit } from '../../examples/embedding/jco.mjs';

const corpus = loadCorpus();
const modules = {};

before(async () => {
  const out = path.join(engines, 'jco');
  mkdirSync(out, { recursive: true });
  // jco emits ES modules.
  writeFileSync(path.join(out, 'package.json'), '{"type": "module"}\n');
  const jco = path.join(here, 'node_modules', '.bin', 'jco');
  for (const policy of corpus.policies) {
    const dir = path.join(out, policy.id);
    execFileSync(jco, ['transpile', path.join(engines, policy.component), '-o', dir, '--name', policy.id, '--quiet']);
    modules[policy.id] = await import(pathToFileURL(path.join(dir, `${policy.id}.js`)).href);
  }
});

for (const policy of loadCorpus().policies) {
  test(`jco ${policy.id} metadata equals the host's`, () => {
    assert.deepEqual(fromWit(modules[policy.id].metadata()), policy.metadata);
  });
}

for (const c of corpus.cases) {
  test(`jco ${c.policy}::${c.name}`, () => {
    const got = evaluateWith(modules[c.policy], c.manifest_normalized, c.settings_json, c.now);
    assert.deepEqual(got, c.expected);
  });
}
