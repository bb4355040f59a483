// Running a Tollgate policy as an OPA Wasm module with OPA's Node SDK
// (`npm install @open-policy-agent/opa-wasm`). Tested by tests/engines/opa.test.mjs over every
// golden case; docs/opa.md quotes the part between the `embed:` markers. The modules
// come from `tollgate policies --export DIR --format opa-wasm`.

// embed:start
// import { loadPolicy } from '@open-policy-agent/opa-wasm';
// const sox = await loadTollgatePolicy(loadPolicy, readFileSync('sox.wasm'));
export async function loadTollgatePolicy(loadPolicy, wasm) {
  // The module reads the evaluation time from `data.tollgate.now` or, without it, from the
  // host's clock through OPA's `time.now_ns` built-in, which the Node SDK leaves to the caller.
  return loadPolicy(wasm, undefined, { 'time.now_ns': () => Date.now() * 1e6 });
}

export function evaluateWith(policy, id, manifest, settings, now) {
  policy.setData({ tollgate: { now, [id]: { settings } } }); // settings null: the defaults
  try {
    const [{ result }] = policy.evaluate(manifest, `tollgate/${id}/decision`);
    return { decision: result };
  } catch (error) {
    // `opa_abort`: the policy could not evaluate (invalid manifest or settings), never an approval.
    const [, kind, message] = /^tollgate: (invalid settings|invalid manifest|internal policy error): (.*)$/s
      .exec(String(error)) ?? [null, 'internal', String(error)];
    return { error: { kind: kind.replace('internal policy error', 'internal').replace(' ', '_'), message } };
  }
}
// const { decision } = evaluateWith(sox, 'sox', manifest, null, '2026-06-01T00:00:00Z');
// policy.evaluate(manifest, 'tollgate/sox/allow')[0].result   // true only when approved
// embed:end
