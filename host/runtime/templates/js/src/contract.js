// Errors you can act on. A JavaScript mistake (a TypeError, an enum value spelt `needs_approval`,
// a snake_case field, a missing list) makes componentize-js trap while it lowers the result, and a
// trap reaches the host only as "wasm unreachable instruction executed". `guarded` runs an export so
// that such a mistake comes back as the contract's `internal` eval-error instead, with the thrown
// error's message and stack, or the path of the decision's field that does not fit the WIT record:
// the gate still fails closed (an error is never an approval) and `tollgate test` prints why.

const OUTCOMES = ['approved', 'needs-approval', 'denied'];
const STATUSES = ['compliant', 'non-compliant', 'pending', 'not-assessed', 'not-applicable'];
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const RISK_CLASSES = ['low', 'medium', 'high'];

const EVAL_ERRORS = ['invalid-settings', 'invalid-manifest', 'internal'];

class Mismatch extends Error {}

function expect(ok, path, what, value) {
  if (!ok) throw new Mismatch(`\`${path}\`: expected ${what}, got ${JSON.stringify(value) ?? String(value)}`);
}

const isString = (v) => typeof v === 'string';

function record(value, path, fields) {
  expect(value !== null && typeof value === 'object' && !Array.isArray(value), path, 'an object', value);
  for (const key of Object.keys(value)) {
    expect(key in fields, `${path}.${key}`, `one of the fields ${Object.keys(fields).join(', ')} (WIT names in camelCase)`, key);
  }
  for (const [key, check] of Object.entries(fields)) check(value[key], `${path}.${key}`);
}

const string = (v, path) => expect(isString(v), path, 'a string', v);
const bool = (v, path) => expect(typeof v === 'boolean', path, 'a boolean', v);
const number = (v, path) => expect(typeof v === 'number' && Number.isFinite(v), path, 'a finite number', v);
const u32 = (v, path) => expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, path, 'an integer from 0 to 4294967295', v);
const oneOf = (values) => (v, path) => expect(values.includes(v), path, `one of ${values.join(', ')}`, v);
const list = (item) => (v, path) => {
  expect(Array.isArray(v), path, 'a list', v);
  v.forEach((e, i) => item(e, `${path}[${i}]`));
};
const option = (inner) => (v, path) => { if (v !== undefined) inner(v, path); };
const fields = (shape) => (v, path) => record(v, path, shape);

const decisionShape = {
  policyId: string,
  framework: string,
  applicable: bool,
  outcome: oneOf(OUTCOMES),
  risk: option(fields({
    score: number,
    class: oneOf(RISK_CLASSES),
    scoreClass: oneOf(RISK_CLASSES),
    categoryClass: option(oneOf(RISK_CLASSES)),
    factors: list(fields({ id: string, description: string, points: number })),
  })),
  routing: option(fields({
    route: string,
    rationale: string,
    required: list(fields({ role: string, satisfiedBy: option(string) })),
    discounted: list(fields({ by: string, role: string, reason: string })),
    automatedChecks: list(fields({ id: string, passed: bool })),
  })),
  findings: list(fields({
    ruleId: string,
    controlId: string,
    severity: oneOf(SEVERITIES),
    message: string,
    remediation: string,
    fieldPath: string,
  })),
  controls: list(fields({ controlId: string, status: oneOf(STATUSES), evidence: list(string) })),
  obligations: list(fields({ id: string, controlId: string, description: string, dueWithinDays: option(u32) })),
  summary: string,
};

/** Checks a decision against the WIT `decision` record; throws a Mismatch naming the field. */
export function checkDecision(decision) {
  record(decision, 'decision', decisionShape);
  return decision;
}

/** An Error's name and message, then its stack (SpiderMonkey's stack does not repeat the message). */
function describe(error) {
  const head = `${error.name}: ${error.message}`;
  const stack = String(error.stack || '');
  const frames = stack.startsWith(head) ? stack.slice(head.length).replace(/^\n/, '') : stack;
  return frames ? `${head}\n${frames}` : head;
}

/** Runs an export: the eval-errors it throws pass through, anything else becomes `internal`. */
export function guarded(name, run) {
  try {
    return run();
  } catch (error) {
    if (error && EVAL_ERRORS.includes(error.tag) && isString(error.val)) throw error;
    if (error instanceof Mismatch) throw { tag: 'internal', val: `${name} returned a malformed result: ${error.message}` };
    const text = error instanceof Error ? describe(error) : `threw ${JSON.stringify(error) ?? String(error)}`;
    throw { tag: 'internal', val: `${name}: ${text}` };
  }
}
