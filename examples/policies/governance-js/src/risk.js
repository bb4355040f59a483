// Risk Classification: how a change is categorised and routed (RC-01, RC-02). The score is the sum
// of its factors; its class is the higher of the score's class and the class the change
// categories imply; the class picks the approver roles and the route.

import { ControlResult } from './findings.js';
import { asWritten } from './facts.js';

const CLASSES = ['low', 'medium', 'high'];
const higher = (a, b) => (CLASSES.indexOf(a) >= CLASSES.indexOf(b) ? a : b);

/** The class each change category implies. */
export const CATEGORY_CLASS = {
  'config-only': 'low',
  'feature-flags': 'low',
  'content-updates': 'low',
  'business-logic': 'medium',
  'database-views': 'medium',
  'ui-changes': 'medium',
  'database-schema': 'high',
  'security-changes': 'high',
  infrastructure: 'high',
};

const TIER_POINTS = { 1: 3, 2: 1, 3: 0 };
const round3 = (x) => Math.round(x * 1000) / 1000;

/** The risk assessment (`risk-assessment` record) of the change. */
export function assessRisk(facts) {
  const { change, settings } = facts;
  const factors = [];
  const factor = (id, description, points) => {
    if (points > 0) factors.push({ id, description, points });
  };
  if (facts.production) factor('production', `deploys to production environment \`${facts.environment}\``, 3);
  factor(
    'service-tier',
    facts.tierDeclared
      ? `service tier ${facts.tier} (extensions.acme.service_tier)`
      : 'service tier not declared (extensions.acme.service_tier): assessed as tier 1',
    TIER_POINTS[facts.tier],
  );
  if (change.includesSchemaChanges) factor('schema-changes', 'alters a database schema', 3);
  if (change.touchesSecurityComponents) factor('security-components', 'touches security components', 4);
  const regulated = change.dataClasses.filter((c) => c === 'financial-reporting' || c === 'cardholder-data');
  if (regulated.length > 0) factor('regulated-data', `affects ${regulated.map(asWritten).join(' and ')} data`, 2);
  if (change.linesChanged > settings.risk.large_change_lines) {
    factor('large-change', `${change.linesChanged} lines changed (more than ${settings.risk.large_change_lines})`, 2);
  }
  factor(
    'failure-history',
    `similar changes failed at a rate of ${change.historicalFailureRate}`,
    round3(10 * change.historicalFailureRate),
  );

  const score = round3(factors.reduce((sum, f) => sum + f.points, 0));
  const { medium_threshold: medium, high_threshold: high } = settings.risk;
  const scoreClass = score >= high ? 'high' : score >= medium ? 'medium' : 'low';
  const categoryClass = change.categories.length
    ? change.categories.map((c) => CATEGORY_CLASS[c]).reduce(higher)
    : undefined;
  const riskClass = categoryClass ? higher(scoreClass, categoryClass) : scoreClass;
  return { score, class: riskClass, scoreClass, categoryClass, factors };
}

/** RC-01: the change is categorised; the evidence is the assessment. */
export function riskClassification(facts, risk) {
  const result = new ControlResult('RC-01');
  result.note(
    `risk score ${risk.score} (${risk.factors.map((f) => `${f.id} +${f.points}`).join(', ') || 'no factor'}): ` +
      `${risk.scoreClass} by score (medium from ${facts.settings.risk.medium_threshold}, high from ${facts.settings.risk.high_threshold})`,
  );
  if (risk.categoryClass) {
    result.note(`categories ${facts.change.categories.map(asWritten).join(', ')} imply ${risk.categoryClass}; class ${risk.class}`);
  } else {
    result.find(
      'change-unclassified',
      'high',
      'the change has no category, so it cannot be classified and routed',
      'name the kinds of change in `change.categories` (config_only, business_logic, database_schema, ...)',
      'change.categories',
    );
  }
  return result;
}

/** The automated checks of the automated route (low risk). */
export function automatedChecks(facts) {
  const { evidence } = facts;
  const scan = evidence.securityScan;
  return [
    { id: 'security-scan-passed', passed: !!scan && scan.completed && scan.critical === 0 && scan.high === 0 },
    { id: 'all-tests-passed', passed: evidence.tests.length > 0 && evidence.tests.every((t) => t.failed === 0) },
    { id: 'rollback-plan-documented', passed: evidence.rollbackPlan.documented },
    { id: 'compliance-checks-passed', passed: evidence.complianceChecksPassed },
    { id: 'backup-verified', passed: evidence.backupVerified },
  ];
}

/** The route of the change: its name, rationale, required roles and automated checks. */
export function route(facts, risk) {
  const roles = facts.settings.required_approver_roles;
  const checks = automatedChecks(facts);
  if (facts.change.emergency) {
    return {
      route: 'emergency',
      rationale: `emergency change: ${roles.emergency.join(', ')} approves before it proceeds; the roles of its ${risk.class}-risk route approve retrospectively`,
      roles: roles.emergency,
      normalRoles: roles[risk.class].length ? roles[risk.class] : roles.medium,
      checks,
    };
  }
  let required = roles[risk.class];
  let rationale = `${risk.class} risk (score ${risk.score})`;
  if (required.length === 0) {
    const failed = checks.filter((c) => !c.passed).map((c) => c.id);
    if (failed.length === 0) {
      return { route: 'automated', rationale: `${rationale}: every automated check passed`, roles: [], checks };
    }
    required = roles.medium;
    rationale += `: automated check(s) ${failed.join(', ')} failed, so a person approves`;
  }
  return {
    route: required.length === 1 ? 'single-approver' : 'multiple-approvers',
    rationale: `${rationale}: ${required.join(', ')} approve${required.length === 1 ? 's' : ''}`,
    roles: required,
    checks,
  };
}

/** RC-02: an emergency change is raised against an incident, and carries its obligations. */
export function emergencyProcedure(facts, risk, routing) {
  const result = new ControlResult('RC-02');
  if (!facts.change.emergency) return { result: result.notApplicable('not an emergency change'), obligations: [] };
  const { emergency } = facts.settings;
  const incident = facts.acme?.incident_reference;
  if (incident) {
    result.note(`emergency change raised against incident ${incident}`);
  } else {
    result.find(
      'emergency-incident-missing',
      'high',
      'an emergency change must name the incident it remedies',
      'record the incident number in `extensions.acme.incident_reference` (INC followed by digits)',
      'extensions.acme.incident_reference',
    );
  }
  const obligations = [
    {
      id: 'retrospective-approval',
      controlId: 'CC-01',
      description: `obtain retrospective approval from ${routing.normalRoles.join(', ')} (the normal route of a ${risk.class}-risk change)`,
      dueWithinDays: emergency.retrospective_approval_within_days,
    },
    {
      id: 'post-implementation-review',
      controlId: 'RC-02',
      description: 'hold the post-implementation review of the emergency change at the next CAB and record it on the ticket',
      dueWithinDays: emergency.post_implementation_review_within_days,
    },
  ];
  result.note(`obligations: retrospective approval within ${emergency.retrospective_approval_within_days} day(s), post-implementation review within ${emergency.post_implementation_review_within_days} day(s)`);
  return { result, obligations };
}
