// The SDK half of `cargo bench -p tollgate-conformance --bench opa`: decides one manifest with the
// three OPA modules in @open-policy-agent/opa-wasm, one loaded instance each, and prints the mean
// microseconds per decision of all three (settings and time set through `data`, as a host would for
// each request). Usage: node opa-bench.mjs DIR NOW ITERATIONS
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';

const [dir, now, iterations] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const ids = ['sox', 'hipaa', 'pci'];
const policies = [];
for (const id of ids) {
  policies.push([id, await loadPolicy(readFileSync(path.join(dir, `${id}.wasm`)), undefined, { 'time.now_ns': () => Date.now() * 1e6 })]);
}
const decide = () => {
  for (const [id, policy] of policies) {
    policy.setData({ tollgate: { now, [id]: { settings: null } } });
    const [{ result }] = policy.evaluate(manifest, `tollgate/${id}/decision`);
    if (!result.outcome) throw new Error('no decision');
  }
};
for (let i = 0; i < 50; i += 1) decide();
const n = Number(iterations);
const start = process.hrtime.bigint();
for (let i = 0; i < n; i += 1) decide();
const micros = Number(process.hrtime.bigint() - start) / 1e3 / n;
console.log(micros.toFixed(2));
