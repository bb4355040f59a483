// The golden corpus exported by `cargo run -p tollgate-conformance --example export_corpus`:
// every golden case with the decision the host reached through the component.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const engines = path.resolve(process.env.TOLLGATE_ENGINES_DIR || path.join(root, 'target', 'engines'));

export function loadCorpus() {
  const file = path.join(engines, 'corpus.json');
  let corpus;
  try {
    corpus = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the golden corpus ${file} (run tests/engines/run): ${error.message}`);
  }
  if (!corpus.cases.length) throw new Error('the golden corpus has no case');
  return corpus;
}

/** The host's result for a case, in the shape every runner reports: {decision} or {error}. */
export function expected(testCase) {
  return testCase.expected;
}

/**
 * Compares a runner's result with the host's: decisions must be equal; errors must be of the same
 * kind with the same message, up to the `at line N column M` positions of the settings text (OPA
 * hosts pass settings as a `data` document, so the policy sees them re-serialized).
 */
export function sameAsHost(got, want, assert) {
  if (want.decision) {
    assert.deepEqual(got, want);
    return;
  }
  const positions = (message) => message.replace(/ at line \d+ column \d+/g, '');
  assert.ok(got.error, `expected an error, got ${JSON.stringify(got).slice(0, 200)}`);
  assert.equal(got.error.kind, want.error.kind);
  assert.equal(positions(got.error.message), positions(want.error.message));
}

/** The namespaces of a case's manifest `extensions` that its policy declares in its metadata. */
export function declaredExtensions(corpus, testCase) {
  const policy = corpus.policies.find((p) => p.id === testCase.policy);
  const declared = new Set((policy.metadata.extensions ?? []).map((e) => e.namespace));
  return Object.keys(testCase.manifest_normalized.extensions ?? {}).filter((ns) => declared.has(ns));
}
