// What every policy area reads: the change, its evidence, the settings, the `acme` extension facts
// and the evaluation time, gathered once per evaluation.

import { invalidManifest } from './errors.js';
import { ACME_EXTENSION_SCHEMA, validate } from './schema.js';

export const NAMESPACE = 'acme';

/** Identities compare trimmed and case-insensitively (`Alice` is `alice`). */
export const sameIdentity = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** A WIT `timestamp` as nanoseconds since the epoch (BigInt). */
export const nanos = (t) => BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanoseconds);

/** A WIT `timestamp` as RFC 3339 text (UTC, to the second). */
export const rfc3339 = (t) => new Date(Number(BigInt(t.seconds)) * 1000).toISOString().replace('.000Z', 'Z');

/** A WIT enum case as the manifest file spells it (`business-logic` -> `business_logic`). */
export const asWritten = (kebab) => kebab.replace(/-/g, '_');

const blank = (s) => s === undefined || s.trim() === '';
export { blank };

/** The `acme` facts of the evaluation context, parsed and checked, or `undefined` when absent. */
function acmeFacts(extensions) {
  const extension = (extensions ?? []).find((e) => e.namespace === NAMESPACE);
  if (!extension) return undefined;
  let facts;
  try {
    facts = JSON.parse(extension.facts);
  } catch (error) {
    throw invalidManifest(`extensions.${NAMESPACE} is not JSON: ${error.message}`);
  }
  const problem = validate(ACME_EXTENSION_SCHEMA, facts, `extensions.${NAMESPACE}`);
  if (problem) throw invalidManifest(problem);
  if (facts.change_window) {
    const window = {};
    for (const edge of ['start', 'end']) {
      const ms = Date.parse(facts.change_window[edge]);
      if (Number.isNaN(ms)) {
        throw invalidManifest(`extensions.${NAMESPACE}.change_window.${edge}: \`${facts.change_window[edge]}\` is not an RFC 3339 time`);
      }
      window[edge] = BigInt(ms) * 1_000_000n;
    }
    facts = { ...facts, window };
  }
  return facts;
}

/** Gathers the facts of one evaluation. */
export function gather(manifest, settings, context) {
  if (manifest.version !== 1) {
    throw invalidManifest(`manifest version ${manifest.version} is not supported (expected 1)`);
  }
  const { change, evidence } = manifest;
  const acme = acmeFacts(context.extensions);
  const environment = change.environment;
  const production = settings.production_environments.includes(environment);
  const governed = production || settings.governed_environments.includes(environment);
  const tierDeclared = acme?.service_tier !== undefined;
  return {
    manifest,
    change,
    evidence,
    settings,
    acme,
    now: nanos(context.now),
    nowText: rfc3339(context.now),
    environment,
    production,
    governed,
    // An undeclared tier is assessed as tier 1, the most critical (fail closed).
    tier: tierDeclared ? acme.service_tier : 1,
    tierDeclared,
  };
}
