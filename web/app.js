// Tollgate preview page. Loads the tollgate-browser WebAssembly module (inlined as base64 by
// web/build.sh so that the page works from file:// with no server), evaluates the manifest as the
// user types, and renders the decision. Every value shown comes from the policies' own output:
// this script only lays it out. Text is always inserted with textContent, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const OUTCOME_LABEL = { approved: 'Approved', needs_approval: 'Needs approval', denied: 'Denied' };
  const STATUS_LABEL = { compliant: 'Compliant', non_compliant: 'Non-compliant', pending: 'Pending', not_assessed: 'Not assessed', not_applicable: 'Not applicable' };
  const DEFAULT_EXAMPLE = 'business-logic-needs-tech-lead.yaml';

  let api = null;
  let policies = [];
  let timer = null;
  let sequence = 0;
  // Third-party packs built into the page (web/build.sh --pack), by policy id.
  const packs = new Map();

  // Published for the tests and for the console: the bindings, the last result, and `evaluate`
  // (manifest text and options to a result, with the page's third-party packs).
  const tollgate = { ready: null, api: null, last: null, evaluate: null };
  window.tollgate = tollgate;

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'scope' || key === 'for') node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) { node.replaceChildren(); return node; }

  function frameworkOf(id) {
    const policy = policies.find((p) => p.id === id);
    return policy ? policy.framework : id;
  }

  function controlTitle(policyId, controlId) {
    const policy = policies.find((p) => p.id === policyId);
    const control = policy && policy.controls.find((c) => c.id === controlId);
    return control ? control.title : '';
  }

  function outcomeBadge(outcome) {
    return el('span', { class: `badge ${outcome}`, 'data-outcome': outcome, text: OUTCOME_LABEL[outcome] || outcome });
  }

  function references(refs) {
    return refs.map((r) => `${r.source} ${r.section}`).join('; ');
  }

  // ---- base64url of UTF-8 text, for share links ----
  function encodeText(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function decodeText(encoded) {
    const b64 = encoded.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }

  // ---- state <-> URL ----
  function selectedPolicies() {
    return policies.filter((p) => $(`fw-${p.id}`).checked).map((p) => p.id);
  }

  function shareParams() {
    const params = new URLSearchParams();
    params.set('manifest', encodeText($('manifest').value));
    const selected = selectedPolicies();
    if (selected.length !== policies.length) params.set('policies', selected.join(','));
    if ($('settings').value.trim()) params.set('settings', encodeText($('settings').value));
    if ($('now').value.trim()) params.set('now', $('now').value.trim());
    return params;
  }

  function shareUrl() {
    return `${location.href.split('#')[0]}#${shareParams().toString()}`;
  }

  function restoreFromUrl() {
    if (!location.hash || location.hash.length < 2) return false;
    const params = new URLSearchParams(location.hash.slice(1));
    if (!params.has('manifest')) return false;
    try {
      $('manifest').value = decodeText(params.get('manifest'));
      $('settings').value = params.has('settings') ? decodeText(params.get('settings')) : '';
    } catch (error) {
      showStatus('The shared link is damaged: its manifest could not be decoded.', 'error');
      return false;
    }
    $('now').value = params.get('now') || '';
    if (params.has('policies')) {
      const ids = params.get('policies').split(',');
      for (const p of policies) $(`fw-${p.id}`).checked = ids.includes(p.id);
    }
    if ($('settings').value || $('now').value) $('settings-panel').open = true;
    return true;
  }

  // ---- evaluation ----
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  }

  // Built-in packs run in the bindings; third-party ones get fresh instances for each
  // evaluation and go through the same pipeline (`evaluateWithPacks`).
  async function evaluateText(text, options) {
    const selected = (options.policies || [...packs.keys()]).filter((id) => packs.has(id));
    if (!selected.length) return api.evaluate(text, options);
    const objects = [];
    for (const id of selected) {
      try {
        objects.push(await packs.get(id).fresh());
      } catch (error) {
        return { status: 'failed', policy: id, error: { kind: 'trap', message: `could not be instantiated: ${error}` } };
      }
    }
    return api.evaluateWithPacks(text, options, objects);
  }

  async function run() {
    clearTimeout(timer);
    const ticket = ++sequence;
    const options = { policies: selectedPolicies() };
    if ($('settings').value.trim()) options.settings = $('settings').value;
    if ($('now').value.trim()) options.now = $('now').value.trim();
    const text = $('manifest').value;
    let result;
    try {
      result = await evaluateText(text, options);
    } catch (error) {
      result = { status: 'failed', policy: '', error: { kind: 'internal', message: String(error) } };
    }
    // A newer evaluation started while this one waited for its packs: it will render.
    if (ticket !== sequence) return;
    tollgate.last = result;
    $('manifest-print').textContent = text;
    render(result, options);
    try {
      history.replaceState(null, '', `#${shareParams().toString()}`);
    } catch (error) {
      // Some browsers refuse to rewrite file:// URLs; the share button still works.
    }
  }

  function showStatus(text, kind) {
    const status = $('status');
    status.className = kind || '';
    clear(status).append(text);
  }

  function render(result, options) {
    const errorBox = $('input-error');
    const decisionBox = $('decision');
    document.body.dataset.status = result.status;
    delete document.body.dataset.outcome;
    errorBox.hidden = true;
    clear(errorBox);
    $('manifest').removeAttribute('aria-invalid');
    $('settings').removeAttribute('aria-invalid');

    if (result.status === 'invalid') {
      decisionBox.hidden = true;
      const e = result.error;
      showStatus('No decision: the input is invalid. Nothing is approved until it is fixed.', 'error');
      const where = [];
      if (e.path) where.push(el('span', {}, 'field ', el('code', { class: 'path', text: e.path })));
      if (e.line) where.push(el('span', { class: 'line', text: `line ${e.line}${e.column ? `, column ${e.column}` : ''}` }));
      errorBox.append(
        el('p', {}, el('strong', { text: `Invalid ${e.source}` }), where.length ? ' at ' : '', ...where.flatMap((w, i) => (i ? [', ', w] : [w]))),
        el('p', { class: 'message', text: e.message }),
      );
      if (e.line && e.source !== 'options') {
        const target = e.source === 'settings' ? 'settings' : 'manifest';
        errorBox.append(el('button', { type: 'button', text: `Show line ${e.line} in the ${target}`, onclick: () => goToLine(target, e.line) }));
      }
      $(e.source === 'settings' ? 'settings' : 'manifest').setAttribute('aria-invalid', 'true');
      errorBox.hidden = false;
      return;
    }
    if (result.status === 'failed') {
      decisionBox.hidden = true;
      showStatus('No decision: a policy could not evaluate the change. An error is never an approval.', 'error');
      errorBox.append(
        el('p', {}, el('strong', { text: `${frameworkOf(result.policy)} (${result.policy}) failed` }), `: ${result.error.kind.replace(/_/g, ' ')}`),
        el('p', { class: 'message', text: result.error.message }),
      );
      errorBox.hidden = false;
      return;
    }

    const combined = result.decision;
    document.body.dataset.outcome = combined.outcome;
    const frameworks = combined.decisions.map((d) => d.framework).join(', ');
    const status = clear($('status'));
    status.className = '';
    status.append(
      el('p', { class: 'overall' }, 'Overall: ', outcomeBadge(combined.outcome), el('span', { class: 'risk-class', text: ` risk ${combined.risk_class ?? 'not assessed'}` })),
      el('p', { class: 'detail', text: `Strictest outcome of ${frameworks}, evaluated at ${options.now || 'the current time'}.` }),
    );
    if (combined.missing_roles.length) {
      status.append(el('p', { class: 'detail', id: 'missing-roles', text: `Missing approvals: ${combined.missing_roles.join(', ')}` }));
    }
    renderFrameworks(combined);
    renderRisk(combined);
    renderRouting(combined);
    renderFindings(combined);
    renderObligations(combined);
    renderControls(combined);
    decisionBox.hidden = false;
  }

  function renderFrameworks(combined) {
    const body = clear($('framework-table').tBodies[0]);
    for (const d of combined.decisions) {
      body.append(el('tr', { 'data-policy': d.policy_id },
        el('th', { scope: 'row', text: d.framework }),
        el('td', { text: d.applicable ? 'yes' : 'no' }),
        el('td', {}, outcomeBadge(d.outcome)),
        // A pack without a risk model (contract 0.3.0) decides without risk and routing.
        el('td', { text: d.risk ? `${d.risk.class} (${d.risk.score})` : 'not assessed' }),
        el('td', { text: d.routing ? d.routing.route : 'none' })));
    }
  }

  // Policies usually agree on the risk assessment and routing; identical ones are shown once.
  function groups(decisions, key) {
    const out = [];
    for (const d of decisions) {
      const k = JSON.stringify(key(d));
      const group = out.find((g) => g.key === k);
      if (group) group.decisions.push(d);
      else out.push({ key: k, value: key(d), decisions: [d] });
    }
    return out;
  }

  function groupLabel(group, total) {
    return group.decisions.length === total ? 'All frameworks' : group.decisions.map((d) => d.framework).join(', ');
  }

  function renderRisk(combined) {
    const applicable = combined.decisions.filter((d) => d.risk);
    const summary = clear($('risk-summary'));
    const body = clear($('risk-factors').tBodies[0]);
    if (!applicable.length) {
      summary.append('No selected policy assesses risk.');
      body.append(el('tr', {}, el('td', { colSpan: 3, text: 'No risk model.' })));
      return;
    }
    const all = groups(applicable, (d) => d.risk);
    const risk = all[0].value;
    summary.append(
      'Score ', el('strong', { id: 'risk-score', text: String(risk.score) }),
      `: class `, el('strong', { id: 'risk-class', text: risk.class }),
      ` (from the score: ${risk.score_class}${risk.category_class ? `; from the categories: ${risk.category_class}` : '; no category given'}).`,
    );
    if (all.length > 1) summary.append(` Settings differ: ${all.map((g) => `${groupLabel(g, applicable.length)} ${g.value.score} (${g.value.class})`).join('; ')}.`);
    for (const f of risk.factors) {
      body.append(el('tr', {}, el('td', {}, el('code', { text: f.id })), el('td', { text: f.description }), el('td', { class: 'num', text: String(f.points) })));
    }
    if (!risk.factors.length) body.append(el('tr', {}, el('td', { colSpan: 3, text: 'No factor contributes to the score.' })));
  }

  function renderRouting(combined) {
    const box = clear($('routing'));
    const all = groups(combined.decisions.filter((d) => d.applicable && d.routing), (d) => d.routing);
    if (!all.length) box.append(el('p', { text: 'No framework that routes approvals applies: nothing to route.' }));
    for (const group of all) {
      const r = group.value;
      const section = el('div', { class: 'routing-group' });
      section.append(el('h4', { text: `${groupLabel(group, combined.decisions.length)}: ${r.route}` }));
      section.append(el('p', { text: r.rationale }));
      if (r.required.length) {
        const list = el('ul', { class: 'roles' });
        for (const req of r.required) {
          list.append(el('li', { class: req.satisfied_by ? 'satisfied' : 'missing', 'data-role': req.role },
            el('code', { text: req.role }), ': ',
            req.satisfied_by ? `satisfied by ${req.satisfied_by}` : el('strong', { text: 'missing' })));
        }
        section.append(el('p', { text: 'Required approvals:' }), list);
      } else {
        section.append(el('p', { text: 'No approver role is required.' }));
      }
      if (r.discounted.length) {
        const table = el('table', { class: 'discounted' },
          el('caption', { text: 'Approvals that do not count' }),
          el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'By' }), el('th', { scope: 'col', text: 'Role' }), el('th', { scope: 'col', text: 'Why it does not count' }))));
        const body = el('tbody');
        for (const a of r.discounted) body.append(el('tr', {}, el('td', { text: a.by }), el('td', {}, el('code', { text: a.role })), el('td', { text: a.reason })));
        table.append(body);
        section.append(table);
      }
      if (r.automated_checks.length) {
        const list = el('ul', { class: 'checks' });
        for (const c of r.automated_checks) list.append(el('li', { class: c.passed ? 'passed' : 'failed' }, el('code', { text: c.id }), c.passed ? ': passed' : ': failed'));
        section.append(el('p', { text: 'Automated checks:' }), list);
      }
      box.append(section);
    }
  }

  const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

  function renderFindings(combined) {
    const box = clear($('findings'));
    const rows = [];
    for (const d of combined.decisions) for (const f of d.findings) rows.push({ d, f });
    rows.sort((a, b) => SEVERITY_ORDER.indexOf(a.f.severity) - SEVERITY_ORDER.indexOf(b.f.severity));
    if (!rows.length) {
      box.append(el('p', { id: 'no-findings', text: 'No findings.' }));
      return;
    }
    const table = el('table', { id: 'findings-table' },
      el('thead', {}, el('tr', {}, ...['Severity', 'Framework', 'Control', 'Finding', 'Remediation'].map((h) => el('th', { scope: 'col', text: h })))));
    const body = el('tbody');
    for (const { d, f } of rows) {
      body.append(el('tr', { class: `severity-${f.severity}`, 'data-rule': f.rule_id, 'data-control': f.control_id },
        el('td', {}, el('span', { class: `severity ${f.severity}`, text: f.severity })),
        el('td', { text: d.framework }),
        el('td', {}, el('code', { text: f.control_id }), el('div', { class: 'refs', text: references(f.references) })),
        el('td', {}, el('div', { text: f.message }), el('div', { class: 'meta' }, 'rule ', el('code', { text: f.rule_id }), f.field_path ? ' · field ' : '', f.field_path ? el('code', { text: f.field_path }) : null)),
        el('td', { text: f.remediation })));
    }
    table.append(body);
    box.append(table);
  }

  function renderObligations(combined) {
    const list = clear($('obligations'));
    const all = [];
    for (const d of combined.decisions) for (const o of d.obligations) all.push({ d, o });
    $('obligations-section').hidden = !all.length;
    for (const { d, o } of all) {
      list.append(el('li', {}, el('code', { text: o.id }), ` (${d.framework}, ${o.control_id}): ${o.description}`,
        o.due_within_days !== null ? ` Due within ${o.due_within_days} days.` : ''));
    }
  }

  function renderControls(combined) {
    const box = clear($('controls'));
    for (const d of combined.decisions) {
      const table = el('table', { class: 'controls', 'data-policy': d.policy_id },
        el('caption', { text: `${d.framework}${d.applicable ? '' : ' (does not apply to this change)'}` }),
        el('thead', {}, el('tr', {}, ...['Control', 'Status', 'Evidence'].map((h) => el('th', { scope: 'col', text: h })))));
      const body = el('tbody');
      for (const c of d.controls) {
        const evidence = el('ul');
        for (const e of c.evidence) evidence.append(el('li', { text: e }));
        body.append(el('tr', { 'data-control': c.control_id, 'data-status': c.status },
          el('th', { scope: 'row' }, el('code', { text: c.control_id }), el('div', { class: 'title', text: controlTitle(d.policy_id, c.control_id) })),
          el('td', {}, el('span', { class: `status ${c.status}`, text: STATUS_LABEL[c.status] || c.status })),
          el('td', {}, evidence)));
      }
      table.append(body);
      box.append(table, el('p', { class: 'summary', text: d.summary }));
    }
  }

  function goToLine(target, line) {
    const area = $(target);
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    const end = start + (lines[line - 1] || '').length;
    area.focus();
    area.setSelectionRange(start, end);
  }

  // ---- set-up ----
  function loadExample(file) {
    const example = api.examples().find((e) => e.file === file);
    if (!example) return;
    $('manifest').value = example.text;
    // The examples reach their recorded outcome at this time; the field shows it.
    $('now').value = api.examplesNow();
    $('example').value = file;
    return run();
  }

  async function start() {
    const binary = atob(self.TOLLGATE_WASM);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    await wasm_bindgen({ module_or_path: bytes });
    api = wasm_bindgen;
    tollgate.api = api;
    tollgate.evaluate = evaluateText;
    policies = api.policies();
    for (const entry of self.TOLLGATE_PACKS || []) {
      const { metadata } = await entry.fresh();
      if (policies.some((p) => p.id === metadata.id)) throw new Error(`${entry.file}: a policy with the id \`${metadata.id}\` is already loaded`);
      packs.set(metadata.id, entry);
      policies.push(metadata);
    }
    $('version').textContent = api.version();

    const fieldset = $('frameworks');
    for (const p of policies) {
      const id = `fw-${p.id}`;
      fieldset.append(el('div', { class: 'check' },
        el('input', { type: 'checkbox', id, checked: true, value: p.id, onchange: run }),
        el('label', { for: id }, `${p.framework} `, el('span', { class: 'muted', text: `(${p.id}, ${p.controls.length} controls${packs.has(p.id) ? `, ${packs.get(p.id).file}` : ''})` }))));
    }
    const select = $('example');
    for (const e of api.examples()) select.append(el('option', { value: e.file, text: e.title }));
    select.addEventListener('change', () => { if (select.value) loadExample(select.value); });

    $('upload').addEventListener('change', async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      $('manifest').value = await file.text();
      $('example').value = '';
      run();
    });
    $('manifest').addEventListener('input', () => { $('example').value = ''; schedule(); });
    $('settings').addEventListener('input', schedule);
    $('now').addEventListener('input', schedule);
    $('share').addEventListener('click', async () => {
      const url = shareUrl();
      try {
        await navigator.clipboard.writeText(url);
        $('share-status').textContent = 'Link copied.';
      } catch (error) {
        $('share-status').textContent = 'Copy this link: ';
        $('share-status').append(el('input', { type: 'text', readOnly: true, value: url, 'aria-label': 'Share link', class: 'share-link' }));
      }
    });
    window.addEventListener('hashchange', () => { if (restoreFromUrl()) run(); });

    if (restoreFromUrl()) await run();
    else await loadExample(DEFAULT_EXAMPLE);
    document.body.dataset.ready = 'true';
  }

  tollgate.ready = start().catch((error) => {
    showStatus(`The policies could not be loaded: ${error}`, 'error');
    document.body.dataset.ready = 'error';
    throw error;
  });
}());
