// Third-party packs in the browser preview, in real Chromium: the page built with
// `web/build.sh --pack` (tests/example-packs/run does it) evaluates every golden case of each pack
// through the same pipeline as the built-in packs, and each decision equals the host's
// (`tollgate eval --policy`, recorded by `check.py corpus`). Also: the packs appear beside the
// built-in ones, decide together with them, get a fresh instance per evaluation, and nothing else
// is loaded.
//
// TOLLGATE_PACK_CORPORA: the corpus files written by `check.py corpus`, separated by `:`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { root } from './corpus.mjs';

const CHROMIUM = process.env.TOLLGATE_CHROMIUM || '/usr/bin/chromium';
const PAGE = pathToFileURL(path.join(root, 'web', 'index.html')).href;
const corpora = (process.env.TOLLGATE_PACK_CORPORA || '').split(':').filter(Boolean)
  .map((file) => JSON.parse(readFileSync(file, 'utf8')));

let browser;
let page;
const consoleErrors = [];
const foreignRequests = [];

before(async () => {
  assert.ok(corpora.length, 'TOLLGATE_PACK_CORPORA names no corpus (run tests/example-packs/run)');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(PAGE);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'the page did not load its policies');
});

after(async () => {
  await browser?.close();
});

test('each pack is offered beside the built-in packs, with its catalogue', async () => {
  for (const corpus of corpora) {
    const id = `#fw-${corpus.policy}`;
    assert.equal(await page.isChecked(id), true, `${corpus.policy} has no checked toggle`);
    assert.match(await page.textContent(`label[for="fw-${corpus.policy}"]`), /\.wasm/);
  }
  assert.equal(await page.isChecked('#fw-sox'), true);
});

for (const corpus of corpora) {
  test(`every ${corpus.policy} golden case decided in the page equals the host's decision`, async () => {
    const results = await page.evaluate(async ({ policy, cases }) => {
      const out = [];
      for (const c of cases) {
        out.push(await window.tollgate.evaluate(JSON.stringify(c.manifest), {
          policies: [policy],
          settings: c.settings === null ? undefined : JSON.stringify({ [policy]: c.settings }),
          now: c.now,
        }));
      }
      return out;
    }, corpus);
    for (const [i, result] of results.entries()) {
      const c = corpus.cases[i];
      const label = `${corpus.policy}::${c.name}`;
      if (c.expected.decision) {
        assert.equal(result.status, 'decided', `${label}: ${JSON.stringify(result).slice(0, 400)}`);
        assert.equal(result.decision.decisions.length, 1, label);
        assert.deepEqual(result.decision.decisions[0], c.expected.decision, label);
      } else if (result.status === 'invalid') {
        // Settings refused before evaluation (by the declared schema), as the CLI does.
        assert.equal(result.error.source, 'settings', label);
        assert.equal(c.expected.error, 'invalid_settings', label);
      } else {
        assert.equal(result.status, 'failed', label);
        assert.equal(result.error.kind, c.expected.error, label);
      }
    }
    console.log(`# browser: ${results.length} ${corpus.policy} cases equal to the host's`);
  });
}

test('a pack decides together with the built-in packs: strictest outcome, one decision each', async () => {
  const corpus = corpora[0];
  const c = corpus.cases.find((x) => x.expected.decision && x.settings === null);
  const result = await page.evaluate(({ policy, c }) => window.tollgate.evaluate(JSON.stringify(c.manifest),
    { policies: ['sox', policy], now: c.now }), { policy: corpus.policy, c });
  assert.equal(result.status, 'decided', JSON.stringify(result).slice(0, 400));
  assert.deepEqual(result.decision.decisions.map((d) => d.policy_id), ['sox', corpus.policy]);
  assert.deepEqual(result.decision.decisions[1], c.expected.decision);
  const rank = { approved: 0, needs_approval: 1, denied: 2 };
  const strictest = result.decision.decisions.reduce((a, d) => (rank[d.outcome] > rank[a] ? d.outcome : a), 'approved');
  assert.equal(result.decision.outcome, strictest);
});

test('the page shows a pack\'s decision and controls', async () => {
  const corpus = corpora[0];
  const c = corpus.cases.find((x) => x.expected.decision && x.settings === null);
  await page.evaluate(() => { document.getElementById('settings-panel').open = true; });
  await page.fill('#now', c.now);
  await page.fill('#manifest', JSON.stringify(c.manifest, null, 2));
  await page.waitForFunction((id) => window.tollgate.last?.status === 'decided'
    && window.tollgate.last.decision.decisions.some((d) => d.policy_id === id), corpus.policy);
  const rows = await page.locator(`table.controls[data-policy="${corpus.policy}"] tbody tr`).count();
  assert.equal(rows, c.expected.decision.controls.length);
});

test('a pack object of the wrong shape is an invalid input, not an approval', async () => {
  const result = await page.evaluate(() => window.tollgate.api.evaluateWithPacks(
    document.getElementById('manifest').value, { policies: ['sox'] }, [{ metadata: {}, digest: 'x' }]));
  assert.equal(result.status, 'invalid');
  assert.equal(result.error.path, 'packs');
});

test('a pack that throws is a failed evaluation naming it', async () => {
  const corpus = corpora[0];
  const c = corpus.cases.find((x) => x.expected.decision && x.settings === null);
  const result = await page.evaluate(async ({ c }) => {
    const [entry] = self.TOLLGATE_PACKS;
    const pack = await entry.fresh();
    pack.evaluate = () => { throw new TypeError('boom'); };
    return window.tollgate.api.evaluateWithPacks(JSON.stringify(c.manifest),
      { policies: [pack.metadata.id], now: c.now }, [pack]);
  }, { c });
  assert.equal(result.status, 'failed');
  assert.equal(result.policy, corpus.policy);
  assert.equal(result.error.kind, 'trap');
  assert.match(result.error.message, /TypeError: boom/);
});

test('a pack returning a malformed decision is refused with the field named', async () => {
  const corpus = corpora[0];
  const c = corpus.cases.find((x) => x.expected.decision && x.settings === null);
  const result = await page.evaluate(async ({ c }) => {
    const [entry] = self.TOLLGATE_PACKS;
    const pack = await entry.fresh();
    const evaluate = pack.evaluate;
    pack.evaluate = (...args) => {
      const out = evaluate(...args);
      out.decision.outcome = 'needs-approval';
      return out;
    };
    return window.tollgate.api.evaluateWithPacks(JSON.stringify(c.manifest),
      { policies: [pack.metadata.id], now: c.now }, [pack]);
  }, { c });
  assert.equal(result.status, 'failed');
  assert.equal(result.error.kind, 'malformed_result');
  assert.match(result.error.message, /decision\.outcome/);
});

test('no console error and no request leaves the page', () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
