// The JSON Schemas the pack declares in its metadata (tollgate:policy@0.3.0): its settings object
// and the `acme` namespace of the manifest's `extensions`. The host validates both before any
// policy runs; the pack validates them again with the small validator below, so that the same
// document gives the same answer in every host (jco, a test harness) and the schema is the one
// source of truth.

const SCHEMA = 'https://json-schema.org/draft/2020-12/schema';

const roles = {
  type: 'array',
  items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
  uniqueItems: true,
};
const suites = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true };
const names = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true };
const days = { type: 'integer', minimum: 1, maximum: 90 };

/** The settings object of the pack. Every property is optional; its default applies. */
export const SETTINGS_SCHEMA = {
  $schema: SCHEMA,
  $id: 'https://acme.example/tollgate/acme-governance/settings.schema.json',
  title: 'Acme Change Governance settings',
  type: 'object',
  additionalProperties: false,
  properties: {
    production_environments: {
      ...names,
      description: 'Environments that are production (shared `defaults` key). Default: [production].',
    },
    governed_environments: {
      ...names,
      description:
        'Environments the framework applies to, besides the production ones. Default: [staging, uat].',
    },
    authorised_deployer_groups: {
      ...names,
      minItems: 1,
      description: 'Directory groups whose members may deploy to production (DA-01). Default: [prod-release-engineering].',
    },
    required_approver_roles: {
      type: 'object',
      additionalProperties: false,
      description: 'Roles that must approve, by risk class; an empty list routes the class to automated approval (CC-01).',
      properties: { low: roles, medium: roles, high: roles, emergency: { ...roles, minItems: 1 } },
    },
    required_tests: {
      type: 'object',
      additionalProperties: false,
      description: 'Test suites required by risk class (CD-02).',
      properties: { low: suites, medium: suites, high: suites },
    },
    risk: {
      type: 'object',
      additionalProperties: false,
      description: 'Score thresholds of the medium and high classes (RC-01); medium must be below high.',
      properties: {
        medium_threshold: { type: 'number', minimum: 0 },
        high_threshold: { type: 'number', minimum: 0 },
        large_change_lines: { type: 'integer', minimum: 1 },
      },
    },
    cab_required_tiers: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 3 },
      uniqueItems: true,
      description: 'Service tiers whose production changes need a CAB reference and window (DA-03). Default: [1, 2].',
    },
    max_open_high_vulnerabilities: {
      type: 'integer',
      minimum: 0,
      description: 'Open high findings a scan may leave (CD-03). Default: 0.',
    },
    emergency: {
      type: 'object',
      additionalProperties: false,
      description: 'Deadlines of the emergency change obligations (RC-02), in days.',
      properties: { retrospective_approval_within_days: days, post_implementation_review_within_days: days },
    },
  },
};

const timestamp = { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$' };

/** `extensions.acme` of a change manifest: organisation facts the core manifest lacks. */
export const ACME_EXTENSION_SCHEMA = {
  $schema: SCHEMA,
  $id: 'https://acme.example/tollgate/acme-governance/extension-acme.schema.json',
  title: 'Acme change facts',
  type: 'object',
  additionalProperties: false,
  properties: {
    service_tier: {
      type: 'integer',
      minimum: 1,
      maximum: 3,
      description: 'Business criticality of the service from the CMDB: 1 critical, 2 important, 3 supporting.',
    },
    cab_reference: {
      type: 'string',
      pattern: '^CAB-[0-9]{4}-[0-9]{3,}$',
      description: 'Change Advisory Board meeting record that scheduled the change, e.g. CAB-2026-041.',
    },
    change_window: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      description: 'The change window the CAB approved (RFC 3339).',
      properties: { start: timestamp, end: timestamp },
    },
    incident_reference: {
      type: 'string',
      pattern: '^INC[0-9]{6,}$',
      description: 'Incident an emergency change remedies, e.g. INC0012345.',
    },
    business_owner: {
      type: 'string',
      minLength: 1,
      description: 'Accountable business owner of the service, for the record.',
    },
  },
};

/**
 * Validates `value` against the subset of JSON Schema these schemas use (type, properties,
 * additionalProperties: false, required, items, uniqueItems, minItems, minimum, maximum,
 * minLength, pattern). Returns the first problem as `path: message`, or `undefined`.
 */
export function validate(schema, value, path) {
  const type = schema.type;
  if (type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${path}: expected an object`;
    const properties = schema.properties ?? {};
    for (const key of Object.keys(value)) {
      if (!(key in properties) && schema.additionalProperties === false) {
        const known = Object.keys(properties).join(', ');
        return `${path}: unknown field \`${key}\` (expected one of ${known})`;
      }
    }
    for (const key of schema.required ?? []) {
      if (!(key in value)) return `${path}: missing field \`${key}\``;
    }
    for (const [key, sub] of Object.entries(properties)) {
      if (key in value) {
        const problem = validate(sub, value[key], `${path}.${key}`);
        if (problem) return problem;
      }
    }
    return undefined;
  }
  if (type === 'array') {
    if (!Array.isArray(value)) return `${path}: expected a list`;
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      return `${path}: expected at least ${schema.minItems} item(s)`;
    }
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
      return `${path}: items must be unique`;
    }
    for (let i = 0; i < value.length; i++) {
      const problem = validate(schema.items, value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (type === 'string') {
    if (typeof value !== 'string') return `${path}: expected a string`;
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${path}: must not be empty`;
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      return `${path}: \`${value}\` does not match \`${schema.pattern}\``;
    }
    return undefined;
  }
  if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${path}: expected a number`;
    if (type === 'integer' && !Number.isInteger(value)) return `${path}: expected an integer`;
    if (schema.minimum !== undefined && value < schema.minimum) return `${path}: must be at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${path}: must be at most ${schema.maximum}`;
    return undefined;
  }
  throw new Error(`schema type ${type} is not supported by the pack's validator`);
}
