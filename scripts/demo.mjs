#!/usr/bin/env node
// The README's first command: build the executable, then run the main job on the embedded default
// (the example policies in examples/policies) against an OCI image layout directory. No registry
// and no cluster are needed.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const exe = join(root, 'dist', process.platform === 'win32' ? 'kubectl-policyoci.exe' : 'kubectl-policyoci');
const work = join(root, '.policyoci-demo');

if (!existsSync(exe) || process.argv.includes('--rebuild')) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
}
rmSync(work, { recursive: true, force: true });

function step(title, args) {
  process.stdout.write(`\n$ kubectl policyoci ${args.join(' ')}\n`);
  execFileSync(exe, args, { stdio: 'inherit', cwd: root });
}

const layout = join('.policyoci-demo', 'layout');
step('push', ['push', '--oci-layout', `${layout}:v1,latest`, 'examples/policies']);
step('push again', ['push', '--oci-layout', `${layout}:v1`, 'examples/policies']);
step('tags', ['tags', '--oci-layout', layout]);
step('inspect', ['inspect', '--oci-layout', `${layout}:v1`]);
step('pull', ['pull', '--oci-layout', `${layout}:v1`, '-o', join('.policyoci-demo', 'pulled')]);
process.stdout.write(`\nDone: the OCI layout is in ${layout}, the pulled policies in .policyoci-demo/pulled\n`);
