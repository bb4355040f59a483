// Runs the built component (dist/acme-governance.wasm) in Node through jco, without the Tollgate
// host: every golden case of tests/cases (or the case files given), or one manifest.
//
//   node test/smoke.mjs                        every case in tests/cases; "N passed, N failed"
//   node test/smoke.mjs tests/cases/03-*.yaml  the cases given
//   node test/smoke.mjs --manifest m.yaml [--settings settings.yaml] [--now 2026-11-18T21:30:00Z]
//                                              prints the decision (or the eval-error) as JSON
//
// Each evaluation gets a fresh instance (a trap poisons an instance). The checks are those of
// crates/cases (`check` and its invariants) and of the host's decision contract
// (crates/pipeline/src/contract.rs), so a case that passes here fails in the host only where the
// host itself differs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const pack = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wasm = path.join(pack, 'dist', 'acme-governance.wasm');
const out = path.join(pack, '.build', 'jco');

// ---- the component, transpiled by jco and compiled once ---------------------------------------
if (!existsSync(wasm)) {
  console.error('dist/acme-governance.wasm is missing: run ./build first');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
execFileSync(path.join(pack, 'node_modules', '.bin', 'jco'),
  ['transpile', wasm, '-o', out, '--name', 'acme-governance', '--instantiation', 'async', '--quiet']);
writeFileSync(path.join(out, 'package.json'), '{"type": "module"}\n');
const { instantiate } = await import(pathToFileURL(path.join(out, 'acme-governance.js')).href);
const modules = new Map();
const getCoreModule = (name) => {
  if (!modules.has(name)) modules.set(name, WebAssembly.compile(readFileSync(path.join(out, name))));
  return modules.get(name);
};
/** A fresh instance: `{ metadata, validateSettings, evaluate }`. The component imports nothing. */
const fresh = () => instantiate(getCoreModule, {});

// ---- a manifest file's JSON form to the WIT records --------------------------------------------
const ENUMS = new Set(['ticket_status', 'data_classes', 'categories', 'strategy', 'kind', 'action']);
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function timestamp(value) {
  const text = value instanceof Date ? value.toISOString() : String(value);
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) throw new Error(`\`${text}\` is not an RFC 3339 time`);
  const fraction = /\.(\d+)/.exec(text);
  return { seconds: BigInt(Math.floor(millis / 1000)), nanoseconds: fraction ? Number(fraction[1].padEnd(9, '0').slice(0, 9)) : 0 };
}

function toWit(value, key = '') {
  if (Array.isArray(value)) return value.map((v) => toWit(v, key));
  if (value === null || value === undefined) return undefined;
  if (key === 'at' || key === 'submitted_at') return timestamp(value);
  if (typeof value === 'string' && ENUMS.has(key)) return value.replace(/_/g, '-');
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), toWit(v, k)]));
  }
  return value;
}

/** The defaults of docs/manifest.md, as the host fills them in before any policy runs. */
function manifestRecord(manifest) {
  const change = {
    reason: null, security_impact: null, submitted_at: null, emergency: false, commit: null, pipeline_id: null,
    deployer_groups: [], approvals: [], data_classes: [], categories: [], includes_schema_changes: false,
    touches_security_components: false, lines_changed: 0, historical_failure_rate: 0, ...manifest.change,
  };
  const evidence = {
    tests: [], security_scan: null, compliance_checks_passed: false, backup_verified: false,
    encryption: null, audit_logging: false, sensitive_data_findings: [], test_data_removed: false,
    breach_notification_procedure: false, infrastructure: null, ...manifest.evidence,
    rollback_plan: { documented: false, strategy: null, tested: false, ...(manifest.evidence?.rollback_plan ?? {}) },
  };
  const provenance = Object.entries(manifest.provenance ?? {})
    .map(([field, source]) => ({ field, kind: (source.kind ?? 'unrecorded').replace(/_/g, '-'), detail: source.detail }));
  return { version: manifest.version, change: toWit(change), evidence: toWit(evidence), provenance };
}

/** The context's extensions: the namespaces the policy declared and the manifest holds, in order. */
function extensionsFor(manifest, metadata) {
  const declared = new Set(metadata.extensions.map((e) => e.namespace));
  const given = manifest.extensions ?? {};
  for (const namespace of Object.keys(given)) {
    if (!declared.has(namespace)) throw new Error(`extensions.${namespace}: no loaded policy declares this namespace`);
  }
  return Object.keys(given).filter((n) => declared.has(n)).sort()
    .map((namespace) => ({ namespace, facts: JSON.stringify(given[namespace], (k, v) => (v instanceof Date ? v.toISOString().replace('.000Z', 'Z') : v)) }));
}

/** Evaluates one manifest: `{ decision }`, `{ error: { kind, message } }`, or throws on a trap. */
async function evaluate(manifest, settings, now) {
  const policy = await fresh();
  const metadata = policy.metadata();
  try {
    const decision = policy.evaluate(manifestRecord(manifest), settings, {
      now: timestamp(now),
      extensions: extensionsFor(manifest, metadata),
    });
    return { metadata, decision };
  } catch (error) {
    if (!error.payload) throw error; // a trap
    return { metadata, error: { kind: error.payload.tag.replace(/-/g, '_'), message: error.payload.val } };
  }
}

// ---- checks: crates/cases `check` and the host's decision contract ------------------------------
const snake = (s) => s.replace(/-/g, '_');
const DENIES = new Set(['high', 'critical']);

function check(c, metadata, result) {
  const expect = c.expect;
  const problems = [];
  if (result.error) {
    if (expect.error === result.error.kind) return problems;
    return [`evaluation failed: ${result.error.kind}: ${result.error.message}`];
  }
  if (expect.error) return [`expected error \`${expect.error}\`, got outcome ${snake(result.decision.outcome)}`];
  const d = result.decision;
  const differ = (what, want, got) => { if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`); };
  const missing = (d.routing?.required ?? []).filter((r) => !r.satisfiedBy).map((r) => r.role);
  differ('outcome', expect.outcome, snake(d.outcome));
  if ('applicable' in expect) differ('applicable', expect.applicable, d.applicable);
  if ('risk_score' in expect) differ('risk score', expect.risk_score, d.risk?.score);
  if ('risk_class' in expect) differ('risk class', expect.risk_class, d.risk?.class);
  if ('route' in expect) differ('route', expect.route, d.routing?.route);
  if ('required_roles' in expect) differ('required roles', expect.required_roles, (d.routing?.required ?? []).map((r) => r.role));
  if ('missing_roles' in expect) differ('missing roles', expect.missing_roles, missing);
  if ('findings' in expect) differ('findings', [...expect.findings].sort(), d.findings.map((f) => `${f.ruleId}@${f.controlId}`).sort());
  if ('obligations' in expect) differ('obligations', expect.obligations, d.obligations.map((o) => o.id));
  const controls = expect.controls ?? {};
  for (const id of Object.keys(controls)) if (!metadata.controls.some((m) => m.id === id)) problems.push(`expected control \`${id}\` is not in the catalogue`);
  for (const r of d.controls) differ(`control ${r.controlId}`, controls[r.controlId] ?? (d.applicable ? 'compliant' : 'not_applicable'), snake(r.status));

  // The decision contract, whatever the case.
  differ('policy id', metadata.id, d.policyId);
  differ('framework', metadata.framework, d.framework);
  differ('controls in catalogue order', metadata.controls.map((m) => m.id), d.controls.map((r) => r.controlId));
  for (const f of d.findings) {
    const control = metadata.controls.find((m) => m.id === f.controlId);
    if (!control) problems.push(`finding ${f.ruleId} names unknown control ${f.controlId}`);
    else if (!control.rules.includes(f.ruleId)) problems.push(`finding ${f.ruleId} is not a rule of ${f.controlId}`);
    if (d.controls.find((r) => r.controlId === f.controlId)?.status !== 'non-compliant') problems.push(`finding ${f.ruleId} belongs to a control that is not non-compliant`);
  }
  const denies = d.findings.some((f) => DENIES.has(f.severity));
  const consistent = { denied: denies, 'needs-approval': !denies && missing.length > 0, approved: !denies && missing.length === 0 }[d.outcome];
  if (!consistent) problems.push(`outcome ${d.outcome} is inconsistent with findings and approvals`);
  if (d.controls.some((r) => r.status === 'pending') && missing.length === 0) problems.push('a control is pending while no approval is missing');
  if (!d.applicable) {
    if (d.findings.length || d.outcome !== 'approved' || d.controls.some((r) => r.status !== 'not-applicable') || d.routing?.required.length) problems.push('a policy that does not apply must approve with nothing found or required');
    if (d.routing && d.routing.route !== 'none') problems.push(`route ${d.routing.route} of a policy that does not apply`);
  } else if (d.routing && !['automated', 'single-approver', 'multiple-approvers', 'emergency'].includes(d.routing.route)) {
    problems.push(`route ${d.routing.route} is not one of automated, single-approver, multiple-approvers, emergency`);
  }
  if (d.risk) {
    const order = ['low', 'medium', 'high'];
    const want = d.risk.categoryClass && order.indexOf(d.risk.categoryClass) > order.indexOf(d.risk.scoreClass) ? d.risk.categoryClass : d.risk.scoreClass;
    if (d.risk.class !== want) problems.push(`risk class ${d.risk.class} is not the higher of score's and categories' classes`);
    const sum = d.risk.factors.reduce((s, f) => s + f.points, 0);
    if (Math.abs(sum - d.risk.score) > 0.001) problems.push(`risk score ${d.risk.score} is not the sum of its factors (${sum})`);
  }
  if (!d.summary.trim()) problems.push('summary is empty');
  return problems;
}

// ---- command line -------------------------------------------------------------------------------
const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const manifestPath = option('--manifest');
if (manifestPath) {
  const settingsPath = option('--settings');
  const now = option('--now') ?? new Date().toISOString();
  const manifest = parse(readFileSync(manifestPath, 'utf8'));
  let settings = '';
  if (settingsPath) {
    // A Tollgate settings file: the pack's own section over the `defaults` keys its schema declares.
    let doc = parse(readFileSync(settingsPath, 'utf8')) ?? {};
    if ('acme-governance' in doc || 'defaults' in doc) {
      const declared = Object.keys(JSON.parse((await fresh()).metadata().settingsSchema).properties);
      const shared = Object.fromEntries(Object.entries(doc.defaults ?? {}).filter(([k]) => declared.includes(k)));
      doc = { ...shared, ...(doc['acme-governance'] ?? {}) };
    }
    settings = JSON.stringify(doc);
  }
  const { decision, error } = await evaluate(manifest, settings, now);
  console.log(JSON.stringify(decision ?? { error }, (k, v) => (typeof v === 'bigint' ? Number(v) : v), 2));
  process.exit(error ? 5 : { approved: 0, 'needs-approval': 3, denied: 4 }[decision.outcome]);
}

const dir = path.join(pack, 'tests', 'cases');
const files = args.length ? args : readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
let passed = 0;
let failed = 0;
const started = process.hrtime.bigint();
for (const file of files) {
  const c = parse(readFileSync(file, 'utf8'));
  const settings = c.settings === undefined || c.settings === null ? '' : JSON.stringify(c.settings);
  let problems;
  try {
    const result = await evaluate(c.manifest, settings, c.now instanceof Date ? c.now.toISOString() : c.now);
    problems = check(c, result.metadata, result);
    // `validate-settings` agrees with `evaluate` on the settings.
    let validation = 'ok';
    try {
      (await fresh()).validateSettings(settings);
    } catch (error) {
      if (!error.payload) throw error;
      validation = snake(error.payload.tag);
    }
    const expected = c.expect.error === 'invalid_settings' ? 'invalid_settings' : 'ok';
    if (validation !== expected) problems.push(`validate-settings: expected ${expected}, got ${validation}`);
  } catch (error) {
    problems = [`trap: ${error.message}`];
  }
  if (problems.length === 0) {
    passed++;
    console.log(`PASS ${path.basename(file)}`);
  } else {
    failed++;
    console.log(`FAIL ${path.basename(file)}\n  ${problems.join('\n  ')}`);
  }
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`(${files.length} case(s) in ${ms.toFixed(0)} ms, a fresh instance each)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
