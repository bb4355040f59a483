// The pack's settings: its own object (JSON text, empty for defaults), validated against the
// settings schema and then for what a schema cannot say (medium threshold below high). Invalid
// settings are an `invalid-settings` error, never silently replaced by defaults.

import { invalidSettings } from './errors.js';
import { SETTINGS_SCHEMA, validate } from './schema.js';

export const DEFAULTS = Object.freeze({
  production_environments: ['production'],
  governed_environments: ['staging', 'uat'],
  authorised_deployer_groups: ['prod-release-engineering'],
  required_approver_roles: {
    low: [],
    medium: ['TECHNICAL_LEAD'],
    high: ['TECHNICAL_LEAD', 'CHANGE_MANAGER', 'RISK_OFFICER'],
    emergency: ['EMERGENCY_CHANGE_MANAGER'],
  },
  required_tests: {
    low: ['unit'],
    medium: ['unit', 'integration'],
    high: ['unit', 'integration', 'regression', 'security'],
  },
  risk: { medium_threshold: 4, high_threshold: 8, large_change_lines: 1000 },
  cab_required_tiers: [1, 2],
  max_open_high_vulnerabilities: 0,
  emergency: { retrospective_approval_within_days: 2, post_implementation_review_within_days: 5 },
});

const NESTED = ['required_approver_roles', 'required_tests', 'risk', 'emergency'];

/** Parses and validates settings text; throws `invalid-settings`. */
export function parseSettings(text) {
  let given = {};
  if (text.trim() !== '') {
    try {
      given = JSON.parse(text);
    } catch (error) {
      throw invalidSettings(`settings are not JSON: ${error.message}`);
    }
    if (given === null) given = {};
  }
  const problem = validate(SETTINGS_SCHEMA, given, 'settings');
  if (problem) throw invalidSettings(problem);

  const settings = { ...DEFAULTS, ...given };
  for (const key of NESTED) settings[key] = { ...DEFAULTS[key], ...(given[key] ?? {}) };

  const { medium_threshold: medium, high_threshold: high } = settings.risk;
  if (!(medium < high)) {
    throw invalidSettings(
      `settings.risk: \`medium_threshold\` (${medium}) must be below \`high_threshold\` (${high})`,
    );
  }
  return settings;
}
