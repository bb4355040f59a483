// Builds the extensions probe (echo.js) into a component of wit/tollgate.wit with componentize-js,
// every WASI feature disabled so that it imports nothing: `node build.mjs OUT.wasm`
// (TOLLGATE_PROBE_WIT=file: another WIT file).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentize } from '@bytecodealliance/componentize-js';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) throw new Error('usage: node build.mjs OUT.wasm');
const wit = path.resolve(process.env.TOLLGATE_PROBE_WIT || path.join(here, '..', '..', '..', 'wit', 'tollgate.wit'));
const source = path.join(here, 'echo.js');
// componentize-js reads the WIT through WASI: it sees the WIT's directory as `/`, nothing else.
_setPreopens({ '/': path.dirname(wit) });
const { component, imports } = await componentize({
  sourcePath: source,
  witPath: `/${path.basename(wit)}`,
  worldName: 'policy',
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
if (imports.length) throw new Error(`the probe imports ${JSON.stringify(imports)}: a policy imports nothing`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, component);
console.log(`extensions probe: ${out} (${component.length} bytes)`);
