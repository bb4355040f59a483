// The browser preview (web/index.html, built by web/build.sh) in real Chromium through Playwright,
// opened from file:// with the network blocked: the page must work from plain files.
//   - the UI: examples, editing, framework toggles, settings, errors with path and line, share link;
//   - every golden case of every policy evaluated in the page, equal to the host's decision;
//   - no console error, no request other than the page's own files;
//   - the README's picture of the page (web/preview.png), taken again at every run after checking
//     what it must show, so a stale picture cannot outlive a test run (TOLLGATE_SCREENSHOT=path
//     writes it elsewhere).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { loadCorpus, root } from './corpus.mjs';

const CHROMIUM = process.env.TOLLGATE_CHROMIUM || '/usr/bin/chromium';
const PAGE = pathToFileURL(path.join(root, 'web', 'index.html')).href;

let browser;
let context;
const consoleErrors = [];
const foreignRequests = [];

async function openPage(url = PAGE) {
  const page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${url})`); });
  page.on('pageerror', (error) => consoleErrors.push(`${error.message} (${url})`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'the page did not load the policies');
  return page;
}

/** The ids of the policies the page offers, in the page's order. */
async function builtInPolicies(page) {
  return page.$$eval('#frameworks input[type=checkbox]', (boxes) => boxes.map((b) => b.id.replace(/^fw-/, '')));
}

async function setManifest(page, text) {
  await page.fill('#manifest', text);
  await page.waitForFunction((t) => window.tollgate.last && document.getElementById('manifest-print').textContent === t, text);
}

before(async () => {
  assert.ok(existsSync(path.join(root, 'web', 'pkg', 'tollgate_web_wasm.js')), 'web/pkg is missing: run web/build.sh');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Only the page's own files may load: anything else is recorded and refused.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
});

after(async () => {
  await browser?.close();
});

test('the page loads from file:// and shows the default example', async () => {
  const page = await openPage();
  assert.equal(await page.inputValue('#example'), 'business-logic-needs-tech-lead.yaml');
  assert.equal(await page.getAttribute('body', 'data-outcome'), 'needs_approval');
  assert.match(await page.textContent('#status'), /Needs approval/);
  assert.match(await page.textContent('#missing-roles'), /TECHNICAL_LEAD/);
  // Framework toggles come from the policies' metadata, each with a label.
  for (const id of ['sox', 'hipaa', 'pci']) {
    assert.equal(await page.isChecked(`#fw-${id}`), true);
    assert.ok((await page.textContent(`label[for="fw-${id}"]`)).length > 0);
  }
  await page.close();
});

test('every bundled example shows its recorded outcome', async () => {
  const page = await openPage();
  const examples = await page.evaluate(() => window.tollgate.api.examples());
  assert.ok(examples.length >= 9);
  for (const example of examples) {
    await page.selectOption('#example', example.file);
    await page.waitForFunction((f) => document.getElementById('manifest').value.length && window.tollgate.last
      && document.getElementById('example').value === f, example.file);
    assert.equal(await page.getAttribute('body', 'data-outcome'), example.expected_outcome, example.file);
  }
  await page.close();
});

test('the decision shows risk factors, routing, discounted approvals, findings and the control map', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'self-approval-denied.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  assert.match(await page.textContent('#status'), /Denied/);
  // Risk: the score with each contributing factor.
  assert.ok(Number(await page.textContent('#risk-score')) > 0);
  assert.ok(await page.locator('#risk-factors tbody tr').count() >= 1);
  assert.match(await page.textContent('#risk-factors'), /production/);
  // Routing: the author's own approval does not count, and says why.
  assert.match(await page.textContent('#routing'), /TECHNICAL_LEAD/);
  assert.match(await page.textContent('table.discounted'), /alice/);
  // Findings carry control id, regulatory reference, severity and remediation.
  const finding = page.locator('#findings-table tr[data-rule="sod-self-approval"]').first();
  assert.equal(await finding.getAttribute('data-control'), 'SOX-CC-05');
  assert.match(await finding.textContent(), /COBIT 2019/);
  assert.match(await finding.textContent(), /high/);
  // The control evidence map: every control of every framework, with its status and evidence.
  assert.equal(await page.getAttribute('table.controls[data-policy="sox"] tr[data-control="SOX-CC-05"]', 'data-status'), 'non_compliant');
  const policies = await page.evaluate(() => window.tollgate.api.policies());
  const controls = policies.reduce((n, p) => n + p.controls.length, 0);
  assert.equal(await page.locator('table.controls tbody tr').count(), controls);
  await page.close();
});

test('editing the manifest updates the decision as the user types', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'low-risk-config-auto-approved.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'approved');
  const text = await page.inputValue('#manifest');
  // The audit log goes off: SOX-IT-01 is breached and the change is denied.
  const edited = text.replace(/audit_logging: true/, 'audit_logging: false');
  assert.notEqual(edited, text, 'the example has no `audit_logging: true` line to edit');
  await page.focus('#manifest');
  await setManifest(page, edited);
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  assert.equal(await page.getAttribute('table.controls[data-policy="sox"] tr[data-control="SOX-IT-01"]', 'data-status'), 'non_compliant');
  assert.equal(await page.inputValue('#example'), '', 'an edited manifest is no longer the example');
  await page.close();
});

test('a misspelt field is reported with its path and line, and nothing is approved', async () => {
  const page = await openPage();
  const text = await page.inputValue('#manifest');
  const lines = text.split('\n');
  const line = lines.findIndex((l) => /^\s*ticket_status:/.test(l)) + 1;
  assert.ok(line > 0);
  await setManifest(page, text.replace('ticket_status:', 'ticket_stauts:'));
  await page.waitForFunction(() => document.body.dataset.status === 'invalid');
  assert.equal(await page.getAttribute('body', 'data-outcome'), null);
  assert.equal(await page.isVisible('#decision'), false);
  assert.equal(await page.textContent('#input-error code.path'), 'change.ticket_stauts');
  assert.match(await page.textContent('#input-error .line'), new RegExp(`line ${line}\\b`));
  assert.equal(await page.getAttribute('#manifest', 'aria-invalid'), 'true');
  // The error offers to select the line in the editor.
  await page.click('#input-error button');
  const selected = await page.evaluate(() => {
    const area = document.getElementById('manifest');
    return area.value.slice(area.selectionStart, area.selectionEnd);
  });
  assert.match(selected, /ticket_stauts/);
  await page.close();
});

test('framework toggles select the policies that run', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'phi-encryption-off-denied.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  const others = (await builtInPolicies(page)).filter((id) => id !== 'sox');
  await page.uncheck('#fw-sox');
  await page.waitForFunction((n) => window.tollgate.last.status === 'decided' && window.tollgate.last.decision.decisions.length === n, others.length);
  assert.deepEqual(await page.locator('#framework-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.policy)), others);
  for (const id of others) await page.uncheck(`#fw-${id}`);
  await page.waitForFunction(() => document.body.dataset.status === 'invalid');
  assert.match(await page.textContent('#input-error'), /select at least one policy/);
  await page.close();
});

test('settings keyed by policy id change the decision; invalid settings are errors', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'low-risk-config-auto-approved.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'approved');
  await page.click('#settings-panel summary');
  await page.fill('#settings', 'sox:\n  key_rotation_max_days: soon\n');
  await page.waitForFunction(() => document.body.dataset.status === 'invalid');
  assert.match(await page.textContent('#input-error'), /key_rotation_max_days/);
  assert.equal(await page.getAttribute('#settings', 'aria-invalid'), 'true');
  await page.fill('#settings', 'gdpr: {}\n');
  await page.waitForFunction(() => /gdpr/.test(document.getElementById('input-error').textContent));
  await page.fill('#settings', '');
  await page.waitForFunction(() => document.body.dataset.outcome === 'approved');
  await page.close();
});

test('the state is shared through the URL', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'self-approval-denied.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  const remaining = (await builtInPolicies(page)).length - 1;
  await page.uncheck('#fw-hipaa');
  await page.waitForFunction((n) => window.tollgate.last.decision && window.tollgate.last.decision.decisions.length === n, remaining);
  const manifest = (await page.inputValue('#manifest')).replace('alice', 'Ålice «ü»');
  await setManifest(page, manifest);
  const url = page.url();
  assert.match(url, /#manifest=/);
  const shared = await openPage(url);
  assert.equal(await shared.inputValue('#manifest'), manifest);
  assert.equal(await shared.isChecked('#fw-hipaa'), false);
  assert.equal(await shared.inputValue('#now'), await page.inputValue('#now'));
  assert.deepEqual(await shared.evaluate(() => window.tollgate.last), await page.evaluate(() => window.tollgate.last));
  await shared.close();
  await page.close();
});

test('the page can be used with the keyboard alone', async () => {
  const page = await openPage();
  // Every form control has a label.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')).map((c) => c.id));
  assert.deepEqual(unlabelled, []);
  // Tab reaches the example picker, and the arrow keys pick an example.
  await page.keyboard.press('Tab'); // skip link
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'example'; i += 1) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement.id);
  }
  assert.equal(focused, 'example');
  await page.selectOption('#example', 'self-approval-denied.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  // Space on a focused framework toggle runs the policies again.
  const remaining = (await builtInPolicies(page)).length - 1;
  await page.focus('#fw-sox');
  await page.keyboard.press('Space');
  await page.waitForFunction((n) => window.tollgate.last.decision && window.tollgate.last.decision.decisions.length === n, remaining);
  await page.close();
});

test('printing shows the decision and the manifest, without the editor controls', async () => {
  const page = await openPage();
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#input'), false);
  assert.equal(await page.isVisible('#decision'), true);
  assert.equal(await page.isVisible('#manifest-print'), true);
  assert.match(await page.textContent('#manifest-print'), /CHG-2041/);
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 10000);
  await page.close();
});

test('declared JSON Schemas are checked in the page, by its JavaScript validator, and fail closed', async () => {
  const page = await openPage();
  const results = await page.evaluate(() => {
    const api = window.tollgate.api;
    const tier = JSON.stringify({
      type: 'object', required: ['tier'], additionalProperties: false,
      properties: { tier: { enum: ['gold', 'silver'] }, cab: { type: 'string', pattern: '^CAB-[0-9]+$' } },
    });
    const settingsSchema = JSON.stringify({
      type: 'object', additionalProperties: false, properties: { approvers: { type: 'integer', minimum: 1 } },
    });
    // A pack of the page's own: reaching `evaluate` means every schema check passed.
    const pack = (schema, settings = settingsSchema) => ({
      metadata: {
        ...api.policies()[0], id: 'acme', framework: 'ACME', settings_schema: settings,
        extensions: [{ namespace: 'acme', description: 'Acme release facts', schema }],
      },
      digest: 'sha256:00',
      validateSettings: () => undefined,
      evaluate: () => ({ error: { kind: 'internal', message: 'reached the pack' } }),
    });
    const manifest = (facts) => `${api.examples()[0].text.trimEnd()}\nextensions:\n  acme:\n${facts}`;
    const run = (text, p, settings) => api.evaluateWithPacks(text, { policies: ['acme'], settings }, [p]);
    return {
      valid: run(manifest('    tier: gold\n    cab: CAB-12\n'), pack(tier)),
      facts: run(manifest('    tier: bronze\n    cab: CAB-12\n'), pack(tier)),
      pattern: run(manifest('    tier: gold\n    cab: CAB-x\n'), pack(tier)),
      unexpected: run(manifest('    tier: gold\n    extra: 1\n'), pack(tier)),
      settings: run(manifest('    tier: gold\n'), pack(tier), JSON.stringify({ acme: { approvers: 0 } })),
      uncompiled: run(api.examples()[0].text, pack(JSON.stringify({ type: 5 }))),
      unsupported: run(api.examples()[0].text, pack(JSON.stringify({ $dynamicRef: '#meta' }))),
      badPattern: run(api.examples()[0].text, pack(JSON.stringify({ pattern: '(' }))),
    };
  });
  assert.equal(results.valid.status, 'failed', JSON.stringify(results.valid));
  assert.equal(results.valid.error.message, 'reached the pack');
  // Facts: every violation reported is located; the first names its field and line.
  assert.equal(results.facts.status, 'invalid', JSON.stringify(results.facts));
  assert.equal(results.facts.error.source, 'manifest');
  assert.equal(results.facts.error.path, 'extensions.acme.tier');
  assert.ok(results.facts.error.line > 1, JSON.stringify(results.facts.error));
  assert.match(results.facts.error.message, /the schema policy `acme` declares for `acme`/);
  assert.equal(results.pattern.status, 'invalid');
  assert.equal(results.pattern.error.path, 'extensions.acme.cab');
  assert.equal(results.unexpected.status, 'invalid');
  assert.equal(results.unexpected.error.path, 'extensions.acme');
  assert.match(results.unexpected.error.message, /'extra' was unexpected/);
  // Settings are checked against the settings schema before the pack sees them.
  assert.equal(results.settings.status, 'invalid', JSON.stringify(results.settings));
  assert.equal(results.settings.error.source, 'settings');
  assert.equal(results.settings.error.policy, 'acme');
  assert.match(results.settings.error.message, /`approvers`/);
  // A schema the page cannot check fails the policy: never skipped, never an approval.
  for (const name of ['uncompiled', 'unsupported', 'badPattern']) {
    const result = results[name];
    assert.equal(result.status, 'failed', `${name}: ${JSON.stringify(result)}`);
    assert.equal(result.policy, 'acme');
    assert.match(result.error.message, /unusable schema/, name);
  }
  assert.match(results.unsupported.error.message, /\$dynamicRef/);
  await page.close();
});

test('every golden case evaluated in the browser equals the host decision', async () => {
  const corpus = loadCorpus();
  const page = await openPage();
  const results = await page.evaluate((cases) => cases.map((c) => {
    const result = window.tollgate.api.evaluate(JSON.stringify(c.manifest), {
      policies: [c.policy],
      settings: c.settings === null ? undefined : JSON.stringify({ [c.policy]: c.settings }),
      now: c.now,
    });
    return { policy: c.policy, name: c.name, result };
  }), corpus.cases);
  let compared = 0;
  for (const [i, { name, result }] of results.entries()) {
    const c = corpus.cases[i];
    let got;
    if (result.status === 'decided') {
      assert.equal(result.decision.decisions.length, 1, name);
      got = { decision: result.decision.decisions[0] };
    } else if (result.status === 'failed') {
      assert.equal(result.policy, c.policy, name);
      got = { error: result.error };
    } else if (result.status === 'invalid' && result.error.source === 'settings' && result.error.policy === c.policy) {
      // The page reports invalid settings before evaluating, as the CLI does.
      got = { error: { kind: 'invalid_settings', message: result.error.message } };
    } else if (result.status === 'invalid' && result.error.source === 'manifest' && c.expected.error?.kind === 'invalid_manifest'
      && result.error.path?.startsWith('extensions.') && c.expected.error.message.includes(result.error.path)) {
      // Extension facts are checked against the declaring policy's schema before it runs, as the
      // CLI does; the policy's own refusal names the same field.
      got = c.expected;
    } else {
      got = { unexpected: result };
    }
    assert.deepEqual(got, c.expected, `${c.policy}::${c.name}`);
    compared += 1;
  }
  assert.equal(compared, corpus.cases.length);
  console.log(`# browser: ${compared} golden cases equal to the host's decisions`);
  await page.close();
});

/** Control ids of a policy README's control table (`| `SOX-CC-05` | ...`), which a Rust test keeps
 * equal to the policy's catalogue: what the page must list, from a source other than the page. */
function documentedControls(policyId) {
  const readme = readFileSync(path.join(root, 'policies', policyId, 'README.md'), 'utf8');
  return readme.split('\n').filter((line) => /^\| `(SOX|HIPAA|PCI|FDA)-[^`]*` \|/.test(line));
}

test('the README screenshot (web/preview.png) shows the page as it is', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'self-approval-denied.yaml');
  await page.waitForFunction(() => document.body.dataset.outcome === 'denied');
  // What the picture must show: every framework with as many controls as its catalogue has (SOX:
  // 6), the self-approved change denied by SOX, and the approval that does not count.
  const labels = await page.$$eval('#frameworks label', (ls) => ls.map((l) => l.textContent.trim()));
  const expectedLabels = [['SOX', 'sox'], ['HIPAA', 'hipaa'], ['PCI DSS', 'pci'], ['FDA 21 CFR Part 11', 'fda']]
    .map(([framework, id]) => `${framework} (${id}, ${documentedControls(id).length} controls)`);
  assert.deepEqual(labels, expectedLabels);
  assert.ok(labels[0].endsWith('(sox, 6 controls)'), labels[0]);
  const perFramework = await page.$$eval('#controls table.controls', (ts) => ts.map((t) => [
    t.dataset.policy, t.querySelectorAll('tbody tr[data-control]').length]));
  assert.deepEqual(perFramework.find(([id]) => id === 'sox'), ['sox', documentedControls('sox').length]);
  const text = await page.evaluate(() => document.body.innerText);
  assert.match(text, /Denied/);
  assert.match(text, /approver is the change's author \(separation of duties\)/);
  const picture = process.env.TOLLGATE_SCREENSHOT || path.join(root, 'web', 'preview.png');
  await page.screenshot({ path: picture, fullPage: false });
  await page.close();
});

test('no console error and no request leaves the page', () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
