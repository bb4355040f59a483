// Builds the component with componentize-js's `componentize()` API, every WASI feature disabled,
// deterministically (the measures of Tollgate's example pack examples/policies/governance-js):
// Math.random and Date.now are pinned while componentize runs (the work directory's name and the
// clock stub come from them), TMPDIR is fixed by ./build, and Wizer runs with the
// tools/deterministic-wasi.c shim preloaded (random bytes, clocks and file times).
//
// Usage: node tools/componentize.mjs <out.wasm> <wizer-wrapper> [--debug], from the staged sources.
// --debug keeps the `stdio` feature: console output reaches WASI stdout and stderr, which only
// `tollgate test --trace` links (and shows); every other command refuses the WASI imports.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';

const [out, wizerBin, mode] = process.argv.slice(2);
if (!out || !wizerBin || (mode !== undefined && mode !== '--debug')) {
  console.error('usage: node tools/componentize.mjs <out.wasm> <wizer-wrapper> [--debug]');
  process.exit(2);
}
const debug = mode === '--debug';

const { random, now } = { random: Math.random, now: Date.now };
Math.random = () => 0.5;
Date.now = () => 0; // the component never reads the clock: the evaluation time is context.now
let result;
try {
  result = await componentize({
    sourcePath: 'src/index.js',
    witPath: 'wit',
    worldName: 'policy',
    disableFeatures: debug ? ['random', 'clocks', 'http', 'fetch-event'] : ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
    wizerBin,
  });
} finally {
  Math.random = random;
  Date.now = now;
}
if (result.imports.length > 0 && !debug) {
  console.error(`the component imports ${JSON.stringify(result.imports)}; a policy must import nothing`);
  process.exit(1);
}
await writeFile(out, result.component);
