// The JSON Schema validator of the browser preview: the pipeline's schema checks (policies'
// settings schemas and extension-namespace schemas, contract 0.3.0) call it through the
// tollgate-browser module (host/browser/src/schemas.rs) instead of carrying a JSON Schema engine in
// the WebAssembly. web/build.sh bundles it with esbuild into pkg/tollgate_schemas.js, a classic
// script that sets `self.tollgateSchemas`:
//
//   compile(schemaText)                 throws an Error saying why the schema is not usable;
//   validate(schemaText, instanceText)  the violations, as JSON text: [{pointer, message}].
//
// @cfworker/json-schema interprets schemas (no code generation: the page's Content-Security-Policy
// allows no eval), with the browser's regular expressions. It behaves as the host's `jsonschema`
// crate does where that matters for a decision:
//   - the draft is the root's `$schema` (2020-12 when absent); draft-04 and unknown dialects, and
//     keywords this validator does not implement ($dynamicRef, $dynamicAnchor; draft 6/7's
//     contentMediaType and contentEncoding), are refused rather than skipped;
//   - a schema is first checked against its draft's meta-schema (ajv's copies of json-schema.org's
//     documents), and every $ref must resolve;
//   - `format` is an assertion in drafts 6 and 7 and an annotation in 2019-09 and 2020-12;
//   - violations are the failing keywords themselves, at the instance path they concern (an
//     applicator such as `properties` or `$ref` is not reported, `anyOf`/`oneOf`/`not`/`contains`
//     are reported instead of their branches').
import { Validator, dereference, format, validate as interpret } from '@cfworker/json-schema';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import schema201909 from 'ajv/dist/refs/json-schema-2019-09/schema.json';
import applicator201909 from 'ajv/dist/refs/json-schema-2019-09/meta/applicator.json';
import content201909 from 'ajv/dist/refs/json-schema-2019-09/meta/content.json';
import core201909 from 'ajv/dist/refs/json-schema-2019-09/meta/core.json';
import format201909 from 'ajv/dist/refs/json-schema-2019-09/meta/format.json';
import metaData201909 from 'ajv/dist/refs/json-schema-2019-09/meta/meta-data.json';
import validation201909 from 'ajv/dist/refs/json-schema-2019-09/meta/validation.json';
import schema202012 from 'ajv/dist/refs/json-schema-2020-12/schema.json';
import applicator202012 from 'ajv/dist/refs/json-schema-2020-12/meta/applicator.json';
import content202012 from 'ajv/dist/refs/json-schema-2020-12/meta/content.json';
import core202012 from 'ajv/dist/refs/json-schema-2020-12/meta/core.json';
import format202012 from 'ajv/dist/refs/json-schema-2020-12/meta/format-annotation.json';
import metaData202012 from 'ajv/dist/refs/json-schema-2020-12/meta/meta-data.json';
import unevaluated202012 from 'ajv/dist/refs/json-schema-2020-12/meta/unevaluated.json';
import validation202012 from 'ajv/dist/refs/json-schema-2020-12/meta/validation.json';

/** `$schema` (without a trailing `#`, http or https) → the draft and its meta-schema documents. */
const DIALECTS = {
  'json-schema.org/draft/2020-12/schema': {
    draft: '2020-12',
    meta: [schema202012, applicator202012, content202012, core202012, format202012, metaData202012,
      unevaluated202012, validation202012],
  },
  'json-schema.org/draft/2019-09/schema': {
    draft: '2019-09',
    meta: [schema201909, applicator201909, content201909, core201909, format201909, metaData201909,
      validation201909],
  },
  'json-schema.org/draft-07/schema': { draft: '7', meta: [draft07] },
  'json-schema.org/draft-06/schema': { draft: '7', meta: [draft06] },
};
const DEFAULT_DIALECT = 'json-schema.org/draft/2020-12/schema';

/** Keywords the validator does not implement, refused wherever they appear (by draft). */
const UNSUPPORTED = {
  '2020-12': ['$dynamicRef', '$dynamicAnchor'],
  '2019-09': [],
  7: ['contentMediaType', 'contentEncoding'],
};

/** Keywords that only apply subschemas: their own errors are replaced by their subschemas'. */
const APPLICATORS = new Set(['properties', 'patternProperties', 'additionalProperties',
  'unevaluatedProperties', '$ref', '$recursiveRef', 'allOf', 'items', 'prefixItems',
  'additionalItems', 'unevaluatedItems', 'dependentSchemas', 'propertyNames', 'if']);
/** Keywords reported themselves, without the errors of their subschemas. */
const OPAQUE = new Set(['anyOf', 'oneOf', 'not', 'contains']);

/** A reason of ours, complete ("is not a valid JSON Schema: ..."); any other error is cfworker's. */
class Refusal extends Error {}

/** The meta-schema validators, by dialect, made when first needed. */
const metaValidators = new Map();
/** Compiled schemas by their text: `{draft, schema, lookup}`. */
const compiled = new Map();

/** Draft 2020-12's meta-schemas recurse with $dynamicRef, which this validator reads as draft
 * 2019-09's $recursiveRef (the meta-schemas use one anchor, `meta`, so the two mean the same). */
function recursive(value) {
  if (Array.isArray(value)) return value.map(recursive);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$dynamicRef') out.$recursiveRef = '#';
    else if (key === '$dynamicAnchor') out.$recursiveAnchor = true;
    else out[key] = recursive(item);
  }
  return out;
}

function metaValidator(dialect) {
  let validator = metaValidators.get(dialect);
  if (!validator) {
    const [root, ...vocabularies] = DIALECTS[dialect].meta.map(recursive);
    validator = new Validator(root, DIALECTS[dialect].draft === '7' ? '7' : '2019-09', false);
    for (const vocabulary of vocabularies) validator.addSchema(vocabulary);
    metaValidators.set(dialect, validator);
  }
  return validator;
}

/** Runs `run` with `format` an annotation (no format checked) when `assert` is false. */
function formats(assert, run) {
  if (assert) return run();
  const saved = { ...format };
  for (const name of Object.keys(format)) delete format[name];
  try {
    return run();
  } finally {
    Object.assign(format, saved);
  }
}

/** Every object of a schema, for the checks of keywords and references. */
function* objects(value) {
  if (value === null || typeof value !== 'object') return;
  if (!Array.isArray(value)) yield value;
  for (const item of Object.values(value)) yield* objects(item);
}

/** `#/a/b%20c` (cfworker's instance location) → `/a/b c` (a JSON pointer). */
function pointer(location) {
  return decodeURIComponent(location.replace(/^#/, ''));
}

function compileText(text) {
  const known = compiled.get(text);
  if (known) return known;
  const schema = JSON.parse(text);
  let dialect = DEFAULT_DIALECT;
  if (schema !== null && typeof schema === 'object' && schema.$schema !== undefined) {
    const name = String(schema.$schema).replace(/^https?:\/\//, '').replace(/#$/, '');
    if (name === 'json-schema.org/draft-04/schema') {
      throw new Refusal('is a draft-04 schema, which the browser preview cannot check (use draft-07 or later)');
    }
    if (!DIALECTS[name]) throw new Refusal(`is not a valid JSON Schema: unknown \`$schema\` ${JSON.stringify(schema.$schema)}`);
    dialect = name;
  }
  const { draft } = DIALECTS[dialect];
  if (typeof schema !== 'boolean') {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new Refusal('is not a valid JSON Schema: it is neither an object nor a boolean');
    }
    const meta = formats(true, () => metaValidator(dialect).validate(schema));
    if (!meta.valid) {
      const leaves = violations(meta.errors);
      const first = leaves[0] || { pointer: '', message: 'it does not match its meta-schema' };
      throw new Refusal(`is not a valid JSON Schema: ${first.pointer ? `at \`${first.pointer}\`: ` : ''}${first.message}`);
    }
    for (const object of objects(schema)) {
      const keyword = UNSUPPORTED[draft].find((k) => Object.hasOwn(object, k));
      if (keyword) throw new Refusal(`uses \`${keyword}\`, which the browser preview cannot check`);
    }
  }
  const lookup = dereference(schema);
  if (typeof schema !== 'boolean') {
    for (const object of objects(schema)) {
      if (typeof object.$ref === 'string' && lookup[object.__absolute_ref__ || object.$ref] === undefined) {
        throw new Refusal(`is not a valid JSON Schema: \`$ref\` ${JSON.stringify(object.$ref)} does not resolve`);
      }
    }
  }
  const entry = { draft, schema, lookup, assertFormats: draft === '7' };
  compiled.set(text, entry);
  return entry;
}

/** cfworker's output units (every keyword that failed, applicators included) → the violations
 * the host's validator reports: `{pointer, message}`. */
function violations(units) {
  const opaque = units.filter((u) => OPAQUE.has(u.keyword)).map((u) => `${u.keywordLocation}/`);
  const out = [];
  for (let i = 0; i < units.length; i += 1) {
    const unit = units[i];
    if (opaque.some((prefix) => unit.keywordLocation.startsWith(prefix))) continue;
    const next = units[i + 1];
    if (APPLICATORS.has(unit.keyword)) {
      // A `false` subschema (`additionalProperties: false`): the keyword is the violation.
      if (next?.keyword !== 'false' || next.instanceLocation === unit.instanceLocation) continue;
      i += 1;
      const key = pointer(next.instanceLocation).split('/').pop().replace(/~1/g, '/').replace(/~0/g, '~');
      const message = unit.keyword === 'additionalProperties' || unit.keyword === 'unevaluatedProperties'
        ? `${unit.keyword === 'additionalProperties' ? 'Additional' : 'Unevaluated'} properties are not allowed ('${key}' was unexpected)`
        : unit.error;
      out.push({ pointer: pointer(unit.instanceLocation), message });
      continue;
    }
    out.push({ pointer: pointer(unit.instanceLocation), message: unit.error.replace(/\.$/, '') });
  }
  return out;
}

function compile(schemaText) {
  try {
    compileText(schemaText);
  } catch (error) {
    throw new Error(error instanceof Refusal ? error.message : `is not a valid JSON Schema: ${error.message}`);
  }
}

function validate(schemaText, instanceText) {
  const { draft, schema, lookup, assertFormats } = compileText(schemaText);
  const instance = JSON.parse(instanceText);
  const result = formats(assertFormats, () => interpret(instance, schema, draft, lookup, false));
  return JSON.stringify(result.valid ? [] : violations(result.errors));
}

self.tollgateSchemas = Object.freeze({ compile, validate });
