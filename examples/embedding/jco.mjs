// Embedding a Tollgate policy component in JavaScript with jco. Tested by
// tests/engines/jco.test.mjs over every golden case; docs/embedding.md quotes the part between the
// `embed:` markers. The component implements `tollgate:policy@0.4.0` (wit/tollgate.wit).
//
// The component takes the manifest as WIT records. jco maps them to JavaScript as: camelCase field
// names, kebab-case enum values, `undefined` for an absent option and BigInt for `s64`. The
// manifest here is the JSON form of a manifest file with its defaults filled in (what
// `serde_json::to_value(&manifest)` gives in Rust); `toWit` and `fromWit` convert (the
// `provenance` mapping becomes a list of `fact-source` records). The manifest's `extensions`
// object is not part of the `change-manifest` record: `extensionsFor` turns the namespaces the
// policy declared into the context's `extension` records. `fromWitMetadata` and `fromWitDecision`
// do what the host does on its side of the contract: absent options and empty extension lists
// leave their keys out, and each finding gets its control's regulatory references from the catalogue.

const ENUM_FIELDS = new Set(['ticket_status', 'data_classes', 'categories', 'meaning', 'strategy', 'kind',
  'action', 'outcome', 'class', 'score_class', 'category_class', 'severity', 'status']);

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** RFC 3339 text to the WIT `timestamp` record. */
export function timestamp(text) {
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) throw new Error(`\`${text}\` is not an RFC 3339 timestamp`);
  const fraction = /\.(\d+)/.exec(text);
  const nanoseconds = fraction ? Number(fraction[1].padEnd(9, '0').slice(0, 9)) : 0;
  return { seconds: BigInt(Math.floor(millis / 1000)), nanoseconds };
}

/** A manifest (JSON form, snake_case) to the `change-manifest` record. */
export function toWit(value, key = '') {
  if (Array.isArray(value)) return value.map((v) => toWit(v, key));
  if (value === null) return undefined;
  if (key === 'at' || key === 'submitted_at') return timestamp(value);
  if (typeof value === 'string' && ENUM_FIELDS.has(key)) return value.replace(/_/g, '-');
  if (key === 'provenance') {
    // field -> source mapping to the list of `fact-source` records
    return Object.entries(value).map(([field, source]) => toWit({ field, ...source }, 'source'));
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), toWit(v, k)]));
  }
  return value;
}

/** A `decision` record (or any WIT value) back to the JSON form the CLI prints. */
export function fromWit(value, key = '') {
  if (Array.isArray(value)) return value.map((v) => fromWit(v, key));
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && ENUM_FIELDS.has(key)) return value.replace(/-/g, '_');
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), fromWit(v, snake(k))]));
  }
  return value;
}

/** A `policy-metadata` record to the host's metadata JSON (`tollgate inspect --format json`, less its digest,
 * size, imports and exports). */
export function fromWitMetadata(record) {
  const { settings_schema: settingsSchema, extensions, ...metadata } = fromWit(record);
  if (settingsSchema !== null) metadata.settings_schema = settingsSchema;
  if (extensions.length) metadata.extensions = extensions;
  return metadata;
}

/** A `decision` record to the JSON form the CLI prints, with the references of `metadata`'s controls. */
export function fromWitDecision(record, metadata) {
  const { risk, routing, ...decision } = fromWit(record);
  const references = new Map(metadata.controls.map((control) => [control.id, control.references]));
  decision.findings = decision.findings.map((finding) =>
    ({ ...finding, references: references.get(finding.control_id) ?? [] }));
  // A policy without a risk model (or routing) leaves the key out, as the host does.
  if (risk !== null) decision.risk = risk;
  if (routing !== null) decision.routing = routing;
  return decision;
}

// embed:start
// npx jco transpile sox.wasm -o sox   (the component imports nothing: no shims needed)
export function evaluateWith(policy, manifest, settings, now) {
  const metadata = fromWitMetadata(policy.metadata());
  const { extensions, ...rest } = manifest;
  const context = { now: timestamp(now), extensions: extensionsFor(metadata, extensions ?? {}) };
  try {
    const decision = policy.evaluate(toWit({ provenance: {}, ...rest }), settings, context);
    return { decision: fromWitDecision(decision, metadata) };
  } catch (error) {
    // `result<decision, eval-error>`: jco throws the `err` case as a ComponentError.
    if (!error.payload) throw error;
    return { error: { kind: error.payload.tag.replace(/-/g, '_'), message: error.payload.val } };
  }
}

/** The manifest's `extensions` namespaces the policy declared, by namespace, facts as JSON text. */
export function extensionsFor(metadata, extensions) {
  const declared = new Set((metadata.extensions ?? []).map((schema) => schema.namespace));
  return Object.keys(extensions).filter((namespace) => declared.has(namespace)).sort()
    .map((namespace) => ({ namespace, facts: JSON.stringify(extensions[namespace]) }));
}
// const sox = await import('./sox/sox.js');
// const { decision } = evaluateWith(sox, manifest, '', '2026-06-01T00:00:00Z');
// embed:end
