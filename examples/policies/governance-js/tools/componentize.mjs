// Builds the component with componentize-js's `componentize()` API, deterministically.
//
// Usage: node tools/componentize.mjs <out.wasm> <wizer-wrapper>
// Run from the pack's directory (the source paths the engine records are relative to it).
//
// What varies between two componentize-js 0.23 builds of the same source, and how it is fixed here:
// 1. the work directory, `$TMPDIR/<sha256(Math.random())[..12]>`, whose path is passed to the
//    engine (initializer script path) and lands in the Wizer snapshot: Math.random is pinned while
//    componentize runs and TMPDIR is fixed to /tmp by the build script;
// 2. the clock stub: with the `clocks` feature disabled, the splicer's `stubWasi` bakes the
//    build's wall-clock time (Date.now(), read through the preview2 shim) into the stubbed
//    `clock_time_get` as an i64 constant: Date.now is pinned too;
// 3. the Wizer snapshot: SpiderMonkey reads WASI random bytes and clocks while it initialises
//    inside Wizer, which takes them from the host: the wizer wrapper preloads
//    tools/deterministic-wasi.c (see there).
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';

const [out, wizerBin] = process.argv.slice(2);
if (!out || !wizerBin) {
  console.error('usage: node tools/componentize.mjs <out.wasm> <wizer-wrapper>');
  process.exit(2);
}

const PINNED_EPOCH_MS = 0; // what `Date.now()` would read inside the component: it is never called

const { random, now } = { random: Math.random, now: Date.now };
Math.random = () => 0.5;
Date.now = () => PINNED_EPOCH_MS;
let result;
try {
  result = await componentize({
    sourcePath: 'src/index.js',
    witPath: 'wit',
    worldName: 'policy',
    disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
    wizerBin,
  });
} finally {
  Math.random = random;
  Date.now = now;
}
if (result.imports.length > 0) {
  console.error(`the component imports ${JSON.stringify(result.imports)}; a policy pack must import nothing`);
  process.exit(1);
}
await writeFile(out, result.component);
