// Acme Change Governance: a Tollgate policy pack (tollgate:policy@0.3.0) in JavaScript. The three
// exports of the `policy` world; componentize-js maps them to the WIT functions `metadata`,
// `validate-settings` and `evaluate`. Everything else lives in one module per concern.

import { CONTROLS, DESCRIPTION, FRAMEWORK, POLICY_ID, VERSION } from './catalogue.js';
import { decide } from './decision.js';
import { NAMESPACE } from './facts.js';
import { ACME_EXTENSION_SCHEMA, SETTINGS_SCHEMA } from './schema.js';
import { parseSettings } from './settings.js';

/** `metadata: func() -> policy-metadata` */
export function metadata() {
  return {
    id: POLICY_ID,
    framework: FRAMEWORK,
    version: VERSION,
    description: DESCRIPTION,
    controls: CONTROLS.map((c) => ({
      id: c.id,
      title: c.title,
      description: c.description,
      references: c.references,
      rules: c.rules,
      reliesOn: c.reliesOn,
    })),
    settingsSchema: JSON.stringify(SETTINGS_SCHEMA),
    extensions: [
      {
        namespace: NAMESPACE,
        description: 'Acme change facts: service tier, CAB reference and change window, incident of an emergency change',
        schema: JSON.stringify(ACME_EXTENSION_SCHEMA),
      },
    ],
  };
}

/** `validate-settings: func(settings: string) -> result<_, eval-error>`: throws `invalid-settings`. */
export function validateSettings(settings) {
  parseSettings(settings);
}

/** `evaluate: func(manifest, settings, context) -> result<decision, eval-error>` */
export function evaluate(manifest, settings, context) {
  return decide(manifest, parseSettings(settings), context);
}
