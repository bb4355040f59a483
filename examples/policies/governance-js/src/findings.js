// Control results as the policy areas build them: a status, the evidence it rests on, and the
// findings, each checked against the catalogue (a rule its control does not list is a bug of the
// pack and traps, rather than reaching the host as a malformed decision).

import { control } from './catalogue.js';

export const DENYING = new Set(['high', 'critical']);

export class ControlResult {
  constructor(controlId) {
    control(controlId);
    this.controlId = controlId;
    this.status = 'compliant';
    this.evidence = [];
    this.findings = [];
  }

  /** Records a statement of evidence. */
  note(statement) {
    this.evidence.push(statement);
    return this;
  }

  /** Records a finding; the control becomes non-compliant. */
  find(ruleId, severity, message, remediation, fieldPath) {
    if (!control(this.controlId).rules.includes(ruleId)) {
      throw new Error(`rule ${ruleId} is not a rule of ${this.controlId}`);
    }
    this.findings.push({ ruleId, controlId: this.controlId, severity, message, remediation, fieldPath });
    this.status = 'non-compliant';
    return this;
  }

  /** The control does not apply to this change, and why. */
  notApplicable(reason) {
    this.status = 'not-applicable';
    this.evidence = [reason];
    return this;
  }
}
