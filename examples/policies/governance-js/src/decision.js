// Decision assembly: runs the policy areas, answers every control of the catalogue once, in
// catalogue order, and derives the outcome from the findings and the missing approvals, as the
// decision contract requires.

import { CONTROLS, FRAMEWORK, POLICY_ID } from './catalogue.js';
import { DENYING } from './findings.js';
import { gather } from './facts.js';
import { approval } from './approval.js';
import { deploymentAuthorization } from './authorization.js';
import { changeDocumentation } from './documentation.js';
import { assessRisk, emergencyProcedure, riskClassification, route } from './risk.js';

function notApplicable(facts, risk, checks) {
  const reason = `environment \`${facts.environment}\` is not governed (production: ${facts.settings.production_environments.join(', ')}; governed: ${facts.settings.governed_environments.join(', ') || 'none'})`;
  return {
    policyId: POLICY_ID,
    framework: FRAMEWORK,
    applicable: false,
    outcome: 'approved',
    risk,
    routing: { route: 'none', rationale: `${FRAMEWORK} does not apply: ${reason}`, required: [], discounted: [], automatedChecks: checks },
    findings: [],
    controls: CONTROLS.map((c) => ({ controlId: c.id, status: 'not-applicable', evidence: [reason] })),
    obligations: [],
    summary: `Not applicable: ${reason}.`,
  };
}

function summary(outcome, risk, routing, findings, missing) {
  const head = `${risk.class} risk (score ${risk.score}), ${routing.route} route`;
  if (outcome === 'denied') {
    const denying = findings.filter((f) => DENYING.has(f.severity));
    return `Denied: ${head}; ${denying.length} blocking finding(s): ${denying.map((f) => `${f.ruleId} (${f.controlId})`).join(', ')}.`;
  }
  if (outcome === 'needs-approval') return `Needs approval: ${head}; missing ${missing.join(', ')}.`;
  const extra = findings.length ? `; ${findings.length} non-blocking finding(s)` : '';
  return `Approved: ${head}${extra}.`;
}

/** The decision on one manifest (`settings` already parsed). */
export function decide(manifest, settings, context) {
  const facts = gather(manifest, settings, context);
  const risk = assessRisk(facts);
  const routing = route(facts, risk);
  if (!facts.governed) return notApplicable(facts, risk, routing.checks);

  const cc01 = approval(facts, routing);
  const emergency = emergencyProcedure(facts, risk, routing);
  const results = [
    cc01.result,
    ...deploymentAuthorization(facts),
    ...changeDocumentation(facts, risk),
    riskClassification(facts, risk),
    emergency.result,
  ];
  const order = CONTROLS.map((c) => c.id);
  results.sort((a, b) => order.indexOf(a.controlId) - order.indexOf(b.controlId));

  const findings = results.flatMap((r) => r.findings);
  const outcome = findings.some((f) => DENYING.has(f.severity))
    ? 'denied'
    : cc01.missing.length > 0
      ? 'needs-approval'
      : 'approved';
  return {
    policyId: POLICY_ID,
    framework: FRAMEWORK,
    applicable: true,
    outcome,
    risk,
    routing: {
      route: routing.route,
      rationale: routing.rationale,
      required: cc01.required,
      discounted: cc01.discounted,
      automatedChecks: routing.checks,
    },
    findings,
    controls: results.map((r) => ({ controlId: r.controlId, status: r.status, evidence: r.evidence })),
    obligations: outcome === 'denied' ? [] : emergency.obligations,
    summary: summary(outcome, risk, routing, findings, cc01.missing),
  };
}
