// A `tollgate:policy@0.3.0` probe written in JavaScript (componentize-js): it declares two manifest
// extension namespaces and echoes the `evaluation-context.extensions` it receives as the evidence of
// its one control, so a runner can check that exactly the declared namespaces reach the policy, in
// namespace order, with their facts as JSON text. It has no risk model and no routing (both `none`),
// and its finding carries no references: the embedder fills them from the catalogue.
// Built by build.mjs (tests/engines/run); used by jco.test.mjs and test_wasmtime.py.

export function metadata() {
  return {
    id: 'echo',
    framework: 'Echo',
    version: '0.1.0',
    description: 'Echoes the extension facts it receives.',
    controls: [{
      id: 'ECHO-1',
      title: 'Extension facts reach the policy',
      description: 'The evidence lists each extension namespace received, with its facts.',
      references: [{ source: 'Tollgate contract', section: '0.3.0' }],
      rules: ['echo-extensions'],
      reliesOn: [],
    }],
    settingsSchema: '{"type":"object","properties":{"mode":{"enum":["echo","fail","trap"]}}}',
    extensions: [
      { namespace: 'beta', description: 'Anything.', schema: '{"type":"object"}' },
      { namespace: 'acme', description: 'Anything.', schema: '{"type":"object"}' },
    ],
  };
}

function mode(settings) {
  return settings ? JSON.parse(settings).mode : 'echo';
}

export function validateSettings(settings) {
  mode(settings);
}

export function evaluate(manifest, settings, context) {
  // `result<decision, eval-error>`: throwing the `eval-error` variant returns its `err` case;
  // throwing anything else traps, which a host reports as a failure of the policy.
  if (mode(settings) === 'fail') throw { tag: 'invalid-settings', val: 'mode `fail` asked for an error' };
  if (mode(settings) === 'trap') throw new Error('mode `trap` asked for a trap');
  return {
    policyId: 'echo',
    framework: 'Echo',
    applicable: true,
    outcome: 'approved',
    risk: undefined,
    routing: undefined,
    findings: [{
      ruleId: 'echo-extensions',
      controlId: 'ECHO-1',
      severity: 'info',
      message: `${context.extensions.length} extension namespaces received`,
      remediation: 'none',
      fieldPath: 'extensions',
    }],
    controls: [{
      controlId: 'ECHO-1',
      status: 'compliant',
      evidence: context.extensions.map((e) => `${e.namespace} ${e.facts}`),
    }],
    obligations: [],
    summary: `change ${manifest.change.id}`,
  };
}
