// OPA's own TypeScript client (@open-policy-agent/opa), unchanged, against a real `tollgate serve`:
// every example manifest gets the decisions `tollgate eval` reached (tests/engines/opa_cases.py),
// through OPA's REST Data API paths tollgate/decision and tollgate/<policy>/{decision,allow,deny}.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPAClient } from '@open-policy-agent/opa';
import { engines } from './corpus.mjs';

const binary = process.env.TOLLGATE_BIN;
const { cases } = JSON.parse(readFileSync(path.join(engines, 'opa-clients', 'cases.json'), 'utf8'));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tollgate-opa-node-'));
const log = path.join(scratch, 'audit.log');
let server;
let url;

before(async () => {
  assert.ok(binary, 'TOLLGATE_BIN names the tollgate binary (tests/engines/run sets it)');
  server = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--audit-log', log], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise((resolve, reject) => {
    let text = '';
    server.stdout.on('data', (chunk) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`tollgate serve exited ${code}`)));
  });
});

after(() => {
  server?.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
});

test('the cases cover every policy of the gate', () => {
  assert.ok(cases.length >= 9, `${cases.length} cases`);
  for (const c of cases) assert.deepEqual(Object.keys(c.policies).sort(), ['fda', 'hipaa', 'pci', 'sox']);
});

for (const c of cases) {
  test(`OPA TypeScript client: ${c.name} decides as tollgate eval`, async () => {
    const opa = new OPAClient(url);
    const gate = await opa.evaluate('tollgate/decision', c.input);
    assert.equal(gate.outcome, c.outcome);
    for (const [id, expected] of Object.entries(c.policies)) {
      const decision = await opa.evaluate(`tollgate/${id}/decision`, c.input);
      assert.equal(decision.id, id);
      assert.equal(decision.outcome, expected.outcome, `${id} decision`);
      const allow = await opa.evaluate(`tollgate/${id}/allow`, c.input);
      assert.equal(allow, expected.outcome === 'approved', `${id} allow`);
      const deny = await opa.evaluate(`tollgate/${id}/deny`, c.input);
      assert.deepEqual(deny, expected.deny, `${id} deny`);
    }
  });
}

test('OPA TypeScript client: without input a rule is undefined, an unknown path too', async () => {
  const opa = new OPAClient(url);
  assert.equal(await opa.evaluate('tollgate/sox/allow'), undefined);
  assert.equal(await opa.evaluate('tollgate/nothing/allow', cases[0].input), undefined);
});

test('OPA TypeScript client: an invalid manifest is a 400 client error naming the field', async () => {
  const opa = new OPAClient(url);
  const input = structuredClone(cases[0].input);
  input.change.ticket_stauts = input.change.ticket_status;
  delete input.change.ticket_status;
  await assert.rejects(opa.evaluate('tollgate/decision', input), (error) => {
    // The client maps a 400 to ClientError (500 to ServerError, others to SDKError).
    assert.equal(error.name, 'ClientError', String(error));
    assert.equal(error.code, 'invalid_parameter');
    assert.match(error.message, /ticket_stauts/);
    return true;
  });
});

test('OPA TypeScript client: the default decision is the whole gate', async () => {
  const opa = new OPAClient(url);
  const c = cases.find((x) => x.outcome === 'denied');
  const gate = await opa.evaluateDefault(c.input);
  assert.equal(gate.outcome, 'denied');
});
