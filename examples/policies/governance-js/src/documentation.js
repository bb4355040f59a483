// Change Documentation: the evidence every change carries (CD-01..CD-04).

import { ControlResult } from './findings.js';
import { asWritten, blank } from './facts.js';

/** CD-01: justification, security impact, commit and pipeline run are recorded. */
function changeRecord(facts) {
  const result = new ControlResult('CD-01');
  const { change } = facts;
  if (blank(change.reason)) {
    result.find('justification-missing', 'high', 'the change record states no business justification',
      'state why the change is made in `change.reason`', 'change.reason');
  } else {
    result.note(`justification: ${change.reason}`);
  }
  if (blank(change.securityImpact)) {
    result.find('security-impact-missing', 'high', 'the change record states no security impact assessment',
      'record the security impact (or "none identified" with who assessed it) in `change.security_impact`',
      'change.security_impact');
  } else {
    result.note(`security impact: ${change.securityImpact}`);
  }
  for (const [field, value, what] of [
    ['change.commit', change.commit, 'commit'],
    ['change.pipeline_id', change.pipelineId, 'pipeline run'],
  ]) {
    if (blank(value)) {
      result.find('traceability-missing', 'high', `the change names no ${what}, so the deployment cannot be traced to it`,
        `record the ${what} in \`${field}\` (tollgate manifest gathers it from git and CI)`, field);
    } else {
      result.note(`${what} ${value}`);
    }
  }
  return result;
}

/** CD-02: the suites the risk class requires passed, and no suite failed. */
function testEvidence(facts, risk) {
  const result = new ControlResult('CD-02');
  const { tests } = facts.evidence;
  const required = facts.settings.required_tests[risk.class];
  for (const suite of required) {
    const ran = tests.find((t) => t.suite === suite && t.passed > 0);
    if (ran) {
      result.note(`${suite}: ${ran.passed} passed, ${ran.failed} failed`);
    } else {
      result.find('required-tests-missing', 'high', `the ${risk.class}-risk change has no passing ${suite} suite`,
        `run the ${suite} suite and attach its results to \`evidence.tests\``, 'evidence.tests');
    }
  }
  tests.forEach((t, i) => {
    if (t.failed > 0) {
      result.find('tests-failed', 'high', `${t.failed} ${t.suite} test(s) failed`,
        'fix the failing tests and re-run the pipeline', `evidence.tests[${i}].failed`);
    }
  });
  if (required.length === 0 && tests.length === 0) result.note(`no suite is required of a ${risk.class}-risk change`);
  return result;
}

/** CD-03: a completed scan left no critical and at most the allowed high findings open. */
function securityScan(facts) {
  const result = new ControlResult('CD-03');
  const scan = facts.evidence.securityScan;
  const allowed = facts.settings.max_open_high_vulnerabilities;
  if (!scan) {
    return result.find('security-scan-missing', 'high', 'no security scan evidence was gathered for the change',
      'run the security scan stage and attach its summary to `evidence.security_scan`', 'evidence.security_scan');
  }
  if (!scan.completed) {
    result.find('security-scan-incomplete', 'high', 'the security scan did not run to completion',
      'fix the scan stage and re-run it', 'evidence.security_scan.completed');
  }
  if (scan.critical > 0) {
    result.find('open-critical-vulnerabilities', 'critical', `${scan.critical} critical vulnerability finding(s) are open`,
      'remediate the critical findings before deploying', 'evidence.security_scan.critical');
  }
  if (scan.high > allowed) {
    result.find('open-high-vulnerabilities', 'high', `${scan.high} high vulnerability finding(s) are open (at most ${allowed} allowed)`,
      'remediate the high findings, or record a risk acceptance as a Tollgate waiver', 'evidence.security_scan.high');
  }
  result.note(`scan ${scan.completed ? 'completed' : 'incomplete'}: ${scan.critical} critical, ${scan.high} high, ${scan.medium} medium, ${scan.low} low open`);
  return result;
}

/** CD-04: a documented back-out plan, exercised for a high-risk change. */
function backOutPlan(facts, risk) {
  const result = new ControlResult('CD-04');
  const plan = facts.evidence.rollbackPlan;
  if (!plan.documented) {
    return result.find('rollback-plan-missing', 'high', 'the change has no documented back-out plan',
      'document how the change is backed out in `evidence.rollback_plan`', 'evidence.rollback_plan.documented');
  }
  result.note(`back-out plan documented${plan.strategy ? ` (${asWritten(plan.strategy)})` : ''}${plan.tested ? ', tested' : ''}`);
  if (risk.class === 'high' && !plan.tested) {
    result.find('rollback-plan-untested', 'high', 'the back-out plan of a high-risk change has not been exercised',
      'rehearse the back-out in a pre-production environment and set `evidence.rollback_plan.tested`',
      'evidence.rollback_plan.tested');
  }
  return result;
}

/** The Change Documentation controls, in catalogue order. */
export function changeDocumentation(facts, risk) {
  return [changeRecord(facts), testEvidence(facts, risk), securityScan(facts), backOutPlan(facts, risk)];
}
