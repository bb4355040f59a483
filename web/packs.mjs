// A third-party policy component in the preview page: web/build.sh --pack transpiles the component
// with jco (instantiation mode, its core modules inlined) and bundles it with this file into a
// classic script (pages opened from file:// cannot load ES modules), which calls `registerPack`.
//
// The page gets `self.TOLLGATE_PACKS`: for each pack `{file, digest, fresh()}`, where `fresh()`
// instantiates the component anew (as the host does for every evaluation) and resolves to the pack
// object `evaluateWithPacks` takes: {metadata, digest, validateSettings, evaluate}. The WIT values
// are converted by the same functions as every JavaScript embedding (examples/embedding/jco.mjs).
import { evaluateWith, fromWitMetadata } from '../examples/embedding/jco.mjs';

function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// `result<_, eval-error>`: jco throws the `err` case as a ComponentError whose payload is the
// variant; anything else thrown is a trap, left to propagate.
function evalError(error) {
  if (!error || !error.payload) throw error;
  return { kind: error.payload.tag.replace(/-/g, '_'), message: error.payload.val };
}

export function registerPack({ file, digest, instantiate, cores }) {
  let compiled = null;
  // Core modules are compiled once, asynchronously (Chromium refuses to compile a module over 8 MB
  // synchronously on the page's thread); each instance is new.
  const modules = () => {
    compiled ??= Promise.all(Object.entries(cores).map(async ([name, base64]) =>
      [name, await WebAssembly.compile(decodeBase64(base64))])).then((entries) => new Map(entries));
    return compiled;
  };
  async function fresh() {
    const byName = await modules();
    const exports = await instantiate((name) => byName.get(name), {});
    const policy = exports.policy ?? exports;
    const metadata = fromWitMetadata(policy.metadata());
    return {
      metadata,
      digest,
      validateSettings(settings) {
        try {
          policy.validateSettings(settings);
          return undefined;
        } catch (error) {
          return evalError(error);
        }
      },
      evaluate(manifestJson, settings, now) {
        return evaluateWith(policy, JSON.parse(manifestJson), settings, now);
      },
    };
  }
  (self.TOLLGATE_PACKS ??= []).push({ file, digest, fresh });
}
