// Entry point of the single-file executable (Node SEA, see .ci/bundle.mjs). A SEA main must be CommonJS,
// which cannot hold main.ts's top-level-await guard, so the bundle starts here instead.
import { dropOutputNobodyReads, run } from './main.js';

dropOutputNobodyReads();
void run(process.argv.slice(2)).then(code => { process.exitCode = code; });
