// {{framework}}: a Tollgate policy pack (tollgate:policy@0.3.0) in JavaScript.
//
// The three exports of the `policy` world (componentize-js maps `validateSettings` to
// `validate-settings`). WIT records are objects with camelCase fields, enums and variant cases are
// kebab-case strings, `option<T>` is `undefined` or the value, `s64` is a BigInt.
//
// One control, `CC-01 All changes must have approval`: a production change needs an approved change
// ticket and at least one approval by someone other than its author and its deployer, given
// before the evaluation time. Anywhere else the pack does not apply.

import { checkDecision, guarded } from './contract.js';

const POLICY_ID = '{{id}}';
const FRAMEWORK = '{{framework}}';
const VERSION = '0.1.0';

const CC_01 = 'CC-01';
const TICKET_NOT_APPROVED = 'ticket-not-approved';
const NO_INDEPENDENT_APPROVAL = 'no-independent-approval';

// The catalogue: the one place the regulatory references are written (the host adds them to every
// finding of the control).
const CONTROLS = [
  {
    id: CC_01,
    title: 'All changes must have approval',
    description:
      'A production change has an approved change ticket and at least one approval by someone other ' +
      'than its author and its deployer, given before the deployment.',
    references: [
      { source: 'AICPA TSC 2017', section: 'CC8.1' },
      { source: 'ISO/IEC 27001:2022', section: 'A.8.32' },
    ],
    rules: [TICKET_NOT_APPROVED, NO_INDEPENDENT_APPROVAL],
    reliesOn: [],
  },
];

// The JSON Schema (draft 2020-12) of the settings. The host checks settings against it before any
// evaluation and passes the pack only the shared `defaults` keys it declares.
const SETTINGS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    production_environments: {
      description: 'Environments whose changes need approval (default [production]).',
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      uniqueItems: true,
    },
  },
  additionalProperties: false,
};

// Manifest extension namespaces the pack reads, each with the JSON Schema of its object; the host
// validates `extensions.<namespace>` before any policy runs and passes the facts in
// `context.extensions` as `{ namespace, facts }` (facts: JSON text). This pack reads none; e.g.
//   { namespace: 'acme', description: 'Acme change facts: the CAB reference',
//     schema: JSON.stringify({ type: 'object', properties: { cab_reference: { type: 'string' } },
//                              additionalProperties: false }) }
const EXTENSIONS = [];

/** The `err` case of `result<_, eval-error>`: componentize-js returns a thrown variant as the error. */
function invalidSettings(why) {
  throw { tag: 'invalid-settings', val: why };
}

function parseSettings(text) {
  const settings = { production_environments: ['production'] };
  if (text.trim() === '') return settings;
  let given;
  try {
    given = JSON.parse(text);
  } catch (error) {
    invalidSettings(`settings are not JSON: ${error.message}`);
  }
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    invalidSettings('settings must be an object');
  }
  for (const [key, value] of Object.entries(given)) {
    if (key !== 'production_environments') invalidSettings(`\`${key}\`: unknown field`);
    if (!Array.isArray(value) || value.length === 0 || value.some((e) => typeof e !== 'string' || e.trim() === '')) {
      invalidSettings('`production_environments`: a non-empty list of environment names');
    }
    settings[key] = value;
  }
  return settings;
}

const nanos = (t) => BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanoseconds);

function finding(ruleId, message, remediation, fieldPath) {
  return { ruleId, controlId: CC_01, severity: 'high', message, remediation, fieldPath };
}

/** `metadata: func() -> policy-metadata` */
export function metadata() {
  return {
    id: POLICY_ID,
    framework: FRAMEWORK,
    version: VERSION,
    description: `${FRAMEWORK}: every production change has an approved ticket and an independent approval`,
    controls: CONTROLS,
    settingsSchema: JSON.stringify(SETTINGS_SCHEMA),
    extensions: EXTENSIONS,
  };
}

/** `validate-settings: func(settings: string) -> result<_, eval-error>` */
export function validateSettings(settings) {
  guarded('validate-settings', () => parseSettings(settings));
}

/**
 * `evaluate: func(manifest, settings, context) -> result<decision, eval-error>`. A thrown Error or
 * a decision the WIT record cannot hold becomes an `internal` eval-error naming it (src/contract.js).
 */
export function evaluate(manifest, settingsJson, context) {
  return guarded('evaluate', () => checkDecision(decide(manifest, settingsJson, context)));
}

function decide(manifest, settingsJson, context) {
  const settings = parseSettings(settingsJson);
  const change = manifest.change;
  const decision = { policyId: POLICY_ID, framework: FRAMEWORK, risk: undefined, routing: undefined, obligations: [] };
  if (!settings.production_environments.includes(change.environment)) {
    const reason = `\`${change.environment}\` is not a production environment`;
    return {
      ...decision,
      applicable: false,
      outcome: 'approved',
      findings: [],
      controls: CONTROLS.map((c) => ({ controlId: c.id, status: 'not-applicable', evidence: [reason] })),
      summary: `Not applicable: ${reason}.`,
    };
  }

  const findings = [];
  const evidence = [];
  if (change.ticketStatus === 'approved') {
    evidence.push(`change ticket ${change.id} is approved`);
  } else {
    findings.push(finding(TICKET_NOT_APPROVED, `change ticket ${change.id} is not approved`,
      'have the change ticket approved before deploying', 'change.ticket_status'));
  }
  const now = nanos(context.now);
  const independent = change.approvals
    .filter((a) => a.by !== change.author && a.by !== change.deployer && nanos(a.at) <= now)
    .map((a) => a.by);
  if (independent.length === 0) {
    findings.push(finding(NO_INDEPENDENT_APPROVAL,
      `no approval by someone other than the author \`${change.author}\` and the deployer \`${change.deployer}\`, given before the evaluation`,
      'have someone independent of the change approve it', 'change.approvals'));
  } else {
    evidence.push(`approved by ${independent.join(', ')}`);
  }

  const denied = findings.some((f) => f.severity === 'high' || f.severity === 'critical');
  return {
    ...decision,
    applicable: true,
    outcome: denied ? 'denied' : 'approved',
    findings,
    controls: [{ controlId: CC_01, status: findings.length ? 'non-compliant' : 'compliant', evidence }],
    summary: denied
      ? `Denied: ${findings.map((f) => `${f.ruleId} (${f.controlId})`).join(', ')}.`
      : 'Approved: the change has an approved ticket and an independent approval.',
  };
}
