// `eval-error` of tollgate:policy@0.3.0, as componentize-js 0.23 lowers it: a function whose WIT
// result is `result<T, eval-error>` returns T for `ok`, and for `err` throws the variant itself as
// a plain object `{ tag, val }` (not an `Error`: componentize-js re-throws an `Error` instance,
// which traps, and the host reports a trap as a policy failure, never as `eval-error`).
// Throwing `{ payload: { tag, val } }` (the shape of jco's ComponentError) is lowered the same way.

/** The settings are invalid; `message` says which field and why. */
export const invalidSettings = (message) => ({ tag: 'invalid-settings', val: message });

/** The manifest is valid but cannot be evaluated (for example an unsupported version). */
export const invalidManifest = (message) => ({ tag: 'invalid-manifest', val: message });

/** An internal error of the policy. */
export const internal = (message) => ({ tag: 'internal', val: message });
