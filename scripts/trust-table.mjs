#!/usr/bin/env node
// Runs the cosign interop matrix (test/e2e/trust-matrix.test.ts) and writes what it measured into
// docs/TRUST.md between the GENERATED markers of its "Interop matrix" section. Without
// UPDATE_TRUST_MATRIX=1 the same test fails when the committed table and a measured run differ.
//   npm run build && node scripts/trust-table.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
if (!existsSync(join(ROOT, 'dist', 'kubectl-policyoci'))) {
  console.error('dist/kubectl-policyoci is missing: run `npm run build` first');
  process.exit(2);
}
const r = spawnSync('npx', ['vitest', 'run', 'test/e2e/trust-matrix.test.ts'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, UPDATE_TRUST_MATRIX: '1' } });
if (r.status !== 0) {
  console.error(`the matrix run failed (exit ${r.status}): docs/TRUST.md is unchanged unless every cell was measured`);
  process.exit(1);
}
console.log('docs/TRUST.md: interop matrix rewritten from the measured run');
