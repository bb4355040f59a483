// CC-01 All changes must have approval: the change ticket's state, which recorded approvals count,
// and whether they cover the roles the route requires, each held by a different person.

import { ControlResult } from './findings.js';
import { nanos, rfc3339, sameIdentity } from './facts.js';

/**
 * Assigns counted approvals to required roles so that one person holds one role, covering as many
 * roles as possible (roles are few: a depth-first search over the candidates is enough).
 * Returns, for each role, the approver or `undefined`.
 */
function assign(roles, approvals) {
  let best = roles.map(() => undefined);
  let bestCount = -1;
  const chosen = [];
  const used = new Set();
  const search = (i, count) => {
    if (count + (roles.length - i) <= bestCount) return;
    if (i === roles.length) {
      best = [...chosen];
      bestCount = count;
      return;
    }
    const candidates = approvals.filter((a) => a.role === roles[i] && !used.has(a.key));
    for (const approval of candidates) {
      used.add(approval.key);
      chosen.push(approval.by);
      search(i + 1, count + 1);
      chosen.pop();
      used.delete(approval.key);
    }
    chosen.push(undefined);
    search(i + 1, count);
    chosen.pop();
  };
  search(0, 0);
  return best;
}

/** CC-01 and the `required` / `discounted` parts of the routing. */
export function approval(facts, routing) {
  const { change } = facts;
  const result = new ControlResult('CC-01');

  switch (change.ticketStatus) {
    case 'rejected':
      result.find('ticket-rejected', 'critical', `change ticket ${change.id} was rejected`,
        'raise a new change request; a rejected change must not be deployed', 'change.ticket_status');
      break;
    case 'approved':
      result.note(`change ticket ${change.id} is approved`);
      break;
    case 'submitted':
      if (change.emergency) {
        result.note(`emergency change: ticket ${change.id} is submitted, approval follows retrospectively`);
        break;
      }
    // falls through
    default:
      result.find('ticket-not-approved', 'high', `change ticket ${change.id} is ${change.ticketStatus}, not approved`,
        'obtain the change ticket approval before deploying', 'change.ticket_status');
  }

  const discounted = [];
  const counted = [];
  change.approvals.forEach((a, i) => {
    const discount = (reason) => discounted.push({ by: a.by, role: a.role, reason });
    if (sameIdentity(a.by, change.author)) {
      discount('the author of the change cannot approve it');
      result.find('approval-by-author', 'high', `${a.by} approved their own change as ${a.role}`,
        'have an independent person in that role approve the change', `change.approvals[${i}].by`);
    } else if (sameIdentity(a.by, change.deployer)) {
      discount('the deployer of the change cannot approve it');
      result.find('approval-by-deployer', 'high', `${a.by} approved the change as ${a.role} and also deploys it`,
        'have an approver other than the deployer approve the change', `change.approvals[${i}].by`);
    } else if (nanos(a.at) > facts.now) {
      discount(`dated ${rfc3339(a.at)}, after the evaluation at ${facts.nowText}`);
      result.find('approval-after-evaluation', 'medium', `the approval by ${a.by} is dated after the deployment`,
        'record the approval time as given; approvals count only once they are given', `change.approvals[${i}].at`);
    } else if (!routing.roles.includes(a.role)) {
      discount(`role ${a.role} is not required by the ${routing.route} route`);
    } else {
      counted.push(a);
    }
  });

  // One person counts once, whatever roles they approved in: the key of an approval is its person.
  const person = (by) => by.trim().toLowerCase();
  const holders = assign(routing.roles, counted.map((a) => ({ ...a, key: person(a.by) })));
  const required = routing.roles.map((role, i) => ({ role, satisfiedBy: holders[i] }));
  for (const a of counted) {
    const used = required.some((r) => r.role === a.role && r.satisfiedBy !== undefined && sameIdentity(r.satisfiedBy, a.by));
    if (!used) discounted.push({ by: a.by, role: a.role, reason: 'one person counts once: the approver holds another required role' });
  }

  const missing = required.filter((r) => !r.satisfiedBy).map((r) => r.role);
  if (routing.route === 'automated') {
    result.note('approved by the automated route: every automated check passed');
  } else {
    for (const r of required) {
      result.note(r.satisfiedBy ? `${r.role} approved by ${r.satisfiedBy}` : `${r.role} approval missing`);
    }
  }
  if (result.status === 'compliant' && missing.length > 0) result.status = 'pending';
  return { result, required, discounted, missing };
}
