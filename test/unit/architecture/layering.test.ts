// The two layering rules of docs/ARCHITECTURE.md, checked over every file in src/ (as
// go-containerregistry checks that its library never imports its CLI):
//   1. nothing below src/commands/ imports src/commands/ or yargs;
//   2. nothing writes to stdout/stderr but src/output/ (the renderers and the
//      reporter the commands inject), src/cli.ts and src/main.ts.
// Plus: src/oci/ is the bottom of the graph (it imports only itself and src/errors.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', '..', 'src');

interface SourceFile {
  path: string; // relative to src/, with '/'
  text: string;
}

function sourceFiles(dir = SRC): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    if (!entry.name.endsWith('.ts')) return [];
    return [{ path: relative(SRC, full).split('\\').join('/'), text: readFileSync(full, 'utf8') }];
  });
}

/** Every module a file names, static or dynamic, resolved relative to src/ ('yargs' stays bare). */
function importsOf(file: SourceFile): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
  for (const match of file.text.matchAll(pattern)) {
    const spec = match[1]!;
    found.push(spec.startsWith('.') ? relative(SRC, resolve(SRC, dirname(file.path), spec)).split('\\').join('/') : spec);
  }
  return found;
}

const CLI_LAYER = (path: string) => path.startsWith('commands/') || path === 'cli.ts';
const MAY_WRITE = (path: string) => path.startsWith('output/') || path === 'cli.ts' || path === 'main.ts';
const WRITES = /\bprocess\.(?:stdout|stderr)\.write\b|\bconsole\.(?:log|error|warn|info|debug)\b/;

export function layeringViolations(files: SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    const imports = importsOf(file);
    if (!CLI_LAYER(file.path)) {
      for (const spec of imports) {
        if (spec.startsWith('commands/')) violations.push(`${file.path} imports ${spec}`);
        if (spec === 'yargs' || spec.startsWith('yargs/')) violations.push(`${file.path} imports ${spec}`);
      }
    }
    if (!MAY_WRITE(file.path)) {
      file.text.split('\n').forEach((line, i) => {
        if (WRITES.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('*')) violations.push(`${file.path}:${i + 1} writes to the terminal`);
      });
    }
    if (file.path.startsWith('oci/')) {
      for (const spec of imports) {
        if (!spec.startsWith('node:') && !spec.startsWith('oci/') && spec !== 'errors.ts') violations.push(`${file.path} (bottom layer) imports ${spec}`);
      }
    }
  }
  return violations;
}

describe('layering of src/', () => {
  const files = sourceFiles();

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files.some((f) => f.path === 'commands/push.ts')).toBe(true);
  });

  it('nothing below commands/ imports commands/ or yargs; only output/, cli.ts and main.ts write to the terminal; oci/ is the bottom', () => {
    expect(layeringViolations(files)).toEqual([]);
  });

  it('the checker sees each kind of violation (static and dynamic imports, writes, upward imports from oci/)', () => {
    const bad: SourceFile[] = [
      { path: 'core/a.ts', text: "import type { X } from '../commands/options.ts';\n" },
      { path: 'core/b.ts', text: "const m = await import('../commands/pull.ts');\n" },
      { path: 'kube/c.ts', text: "import yargs from 'yargs';\n" },
      { path: 'registry/d.ts', text: "  process.stderr.write('x');\n" },
      { path: 'policy/e.ts', text: "console.log('x');\n" },
      { path: 'oci/f.ts', text: "import { x } from '../content/types.ts';\n" },
      { path: 'commands/ok.ts', text: "import { y } from './options.ts';\nimport yargs from 'yargs';\n" },
      { path: 'output/ok.ts', text: "process.stdout.write('fine');\n" },
    ];
    expect(layeringViolations(bad)).toEqual([
      'core/a.ts imports commands/options.ts',
      'core/b.ts imports commands/pull.ts',
      'kube/c.ts imports yargs',
      'registry/d.ts:1 writes to the terminal',
      'policy/e.ts:1 writes to the terminal',
      'oci/f.ts (bottom layer) imports content/types.ts',
    ]);
  });
});
