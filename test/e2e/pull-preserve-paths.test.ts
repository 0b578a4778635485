// pull --preserve-paths on a real registry: what `oras push` of a directory holds comes back as the
// same tree, byte for byte (and as `oras pull` writes it); a multi-document file stays one file;
// paths that would leave the output directory, or lead through a symbolic link in it, refuse the
// pull with nothing written anywhere.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTarGz } from '../../src/artifact/tarball.ts';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');

/** Every file under `dir`, relative, "/"-separated, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

function oras(args: string[], cwd: string): string {
  return runTool('oras', args, { cwd });
}

describe('pull --preserve-paths', () => {
  let reg: RunningRegistry;
  let work: string;
  let src: string;
  beforeAll(async () => {
    reg = await startRegistry('open');
    work = await mkdtemp(join(tmpdir(), 'preserve-paths-'));
    // policies/{kyverno/{require-labels.yaml,sub/…},kubearmor/…, mixed.yaml}: mixed.yaml holds a Kyverno
    // and a KubeArmor policy, with a comment (kept as it is: the file is not rewritten).
    src = join(work, 'src');
    await mkdir(join(src, 'policies', 'kyverno', 'sub'), { recursive: true });
    await cp(join(EXAMPLES, 'kubearmor'), join(src, 'policies', 'kubearmor'), { recursive: true });
    await cp(join(EXAMPLES, 'kyverno', 'require-labels.yaml'), join(src, 'policies', 'kyverno', 'require-labels.yaml'));
    await cp(join(EXAMPLES, 'kyverno', 'disallow-latest-tag.yaml'), join(src, 'policies', 'kyverno', 'sub', 'disallow-latest-tag.yaml'));
    const ro = await readFile(join(EXAMPLES, 'kyverno', 'require-ro-rootfs.yaml'), 'utf8');
    const ksp = await readFile(join(EXAMPLES, 'kubearmor', 'ksp-nginx-hardening-rule-monitor-cache-access.yaml'), 'utf8');
    await writeFile(join(src, 'policies', 'mixed.yaml'), `# two engines in one file\n${ro.trimEnd()}\n---\n${ksp}`);
    oras(['push', '--plain-http', `${reg.host}/tree:v1`, 'policies'], src);
  });
  afterAll(async () => reg?.stop());

  it('writes the tree oras pushed, each file as it was (a multi-document file stays one file), as oras pull does', async () => {
    const out = join(work, 'out');
    const r = JSON.parse((await runOk(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '-o', out, '--format', 'json'])).stdout);
    const expected = await tree(src);
    expect(expected).toContain('policies/kyverno/sub/disallow-latest-tag.yaml');
    expect(await tree(out)).toEqual(expected);
    for (const file of expected) expect((await readFile(join(out, file))).equals(await readFile(join(src, file))), file).toBe(true);
    // Both policies of mixed.yaml are listed, with the file they are in.
    const mixed = r.files.filter((f: { file: string }) => f.file === 'policies/mixed.yaml').map((f: { kind: string }) => f.kind).sort();
    expect(mixed).toEqual(['ClusterPolicy', 'KubeArmorPolicy']);
    // oras pull of the same artifact gives the same tree.
    const byOras = join(work, 'by-oras');
    oras(['pull', '--plain-http', `${reg.host}/tree:v1`, '-o', byOras], work);
    expect(await tree(byOras)).toEqual(expected);

    // Without the flag: one <name>.yaml per policy, flat (the default is unchanged).
    const flat = join(work, 'flat');
    await runOk(['pull', `${reg.host}/tree:v1`, '-o', flat]);
    expect((await tree(flat)).every((f) => !f.includes('/'))).toBe(true);
  });

  it('with --engine, a file keeps only the wanted policies; files without any are not written', async () => {
    const out = join(work, 'kubearmor-only');
    await runOk(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '--engine', 'kubearmor', '-o', out]);
    expect(await tree(out)).toEqual(['policies/kubearmor/hsp-cis-1-1-17-controller-manager.yaml', 'policies/kubearmor/ksp-nginx-hardening-rule-monitor-cache-access.yaml', 'policies/mixed.yaml']);
    const mixed = await readFile(join(out, 'policies', 'mixed.yaml'), 'utf8');
    expect(mixed).toContain('kind: KubeArmorPolicy');
    expect(mixed).not.toContain('ClusterPolicy');
  });

  it('our own artifacts (titles are file names) and a Kyverno CLI artifact (no titles) give <name>.yaml files', async () => {
    await runOk(['push', `${reg.host}/ours:v1`, join(EXAMPLES, 'kyverno')]);
    const ours = join(work, 'ours');
    const flat = join(work, 'ours-flat');
    await runOk(['pull', `${reg.host}/ours:v1`, '--preserve-paths', '-o', ours]);
    await runOk(['pull', `${reg.host}/ours:v1`, '-o', flat]);
    expect(await tree(ours)).toEqual(await tree(flat));

    runTool('kyverno', ['oci', 'push', join(src, 'policies', 'kyverno', 'sub'), '-i', `${reg.host}/kyverno-cli:v1`], { env: { KYVERNO_EXPERIMENTAL: 'true' } });
    const theirs = join(work, 'kyverno-cli');
    await runOk(['pull', `${reg.host}/kyverno-cli:v1`, '--preserve-paths', '-o', theirs]);
    expect(await tree(theirs)).toEqual(['disallow-latest-tag.yaml']);
  });

  it('a Flux-style tarball ("./"-prefixed entries, no root directory) comes back as its tree', async () => {
    const dir = join(work, 'flux');
    await mkdir(dir);
    const kyverno = await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml'));
    const kubearmor = await readFile(join(EXAMPLES, 'kubearmor', 'hsp-cis-1-1-17-controller-manager.yaml'));
    await writeFile(join(dir, 'all.tar.gz'), createTarGz([{ path: './kyverno/require-labels.yaml', content: kyverno }, { path: './kubearmor/hsp.yaml', content: kubearmor }, { path: './README.md', content: Buffer.from('not a policy\n') }]));
    oras(['push', '--plain-http', `${reg.host}/flux:v1`, 'all.tar.gz:application/vnd.cncf.flux.content.v1.tar+gzip'], dir);
    const out = join(dir, 'out');
    await runOk(['pull', `${reg.host}/flux:v1`, '--preserve-paths', '-o', out]);
    expect(await tree(out)).toEqual(['kubearmor/hsp.yaml', 'kyverno/require-labels.yaml']);
    expect((await readFile(join(out, 'kyverno', 'require-labels.yaml'))).equals(kyverno)).toBe(true);
  });

  it('refuses titles that leave the output directory ("..", absolute), writing nothing anywhere', async () => {
    const inner = join(work, 'a', 'b');
    await mkdir(inner, { recursive: true });
    await cp(join(EXAMPLES, 'kyverno', 'require-labels.yaml'), join(work, 'escape.yaml'));
    oras(['push', '--disable-path-validation', '--plain-http', `${reg.host}/climb:v1`, '../../escape.yaml'], inner);
    oras(['push', '--disable-path-validation', '--plain-http', `${reg.host}/absolute:v1`, join(work, 'escape.yaml')], inner);
    for (const [repo, why] of [['climb', 'it climbs out with ".."'], ['absolute', 'it is absolute']] as const) {
      const out = join(inner, `out-${repo}`);
      const r = await runCli(['pull', `${reg.host}/${repo}:v1`, '--preserve-paths', '-o', out]);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('nothing was written');
      expect(existsSync(out)).toBe(false);
    }
    // Nothing landed where "../../escape.yaml" leads from the output directory, nor was the absolute
    // path touched; the plain pull of the same artifact works (file names come from the policies).
    expect(await readdir(join(work, 'a'))).toEqual(['b']);
    expect(await readdir(inner)).toEqual([]);
    expect((await readFile(join(work, 'escape.yaml'))).equals(await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml')))).toBe(true);
    await runOk(['pull', `${reg.host}/climb:v1`, '-o', join(inner, 'flat')]);
    expect(await tree(join(inner, 'flat'))).toEqual(['require-labels.yaml']);
  });

  it('refuses an archive entry with ".." (the tar reader refuses it before any path is used)', async () => {
    const dir = join(work, 'tar');
    await mkdir(dir);
    const policy = await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml'));
    await writeFile(join(dir, 'bad.tar.gz'), createTarGz([{ path: 'ok/../../evil.yaml', content: policy }]));
    oras(['push', '--plain-http', `${reg.host}/tar-climb:v1`, 'bad.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip'], dir);
    const out = join(dir, 'out');
    const r = await runCli(['pull', `${reg.host}/tar-climb:v1`, '--preserve-paths', '-o', out]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/leaves the archive/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(work, 'evil.yaml'))).toBe(false);
  });

  it('never writes through a symbolic link in the output directory; nothing is written', async () => {
    const out = join(work, 'with-link');
    const elsewhere = join(work, 'elsewhere');
    await mkdir(out);
    await mkdir(elsewhere);
    await writeFile(join(out, 'keep.txt'), 'mine\n');
    await symlink(elsewhere, join(out, 'policies'));
    const r = await runCli(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '-o', out, '--force']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('is a symbolic link');
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await readdir(out)).sort()).toEqual(['keep.txt', 'policies']);
  });

  it('into a non-empty directory: existing files stop it without --force (nothing written); --force replaces them', async () => {
    const out = join(work, 'again');
    await runOk(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '-o', out]);
    await writeFile(join(out, 'policies', 'mixed.yaml'), 'changed\n');
    await writeFile(join(out, 'notes.txt'), 'mine\n');
    const r = await runCli(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '-o', out]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain('policies/mixed.yaml');
    expect(await readFile(join(out, 'policies', 'mixed.yaml'), 'utf8')).toBe('changed\n');
    await runOk(['pull', `${reg.host}/tree:v1`, '--preserve-paths', '-o', out, '--force']);
    expect((await readFile(join(out, 'policies', 'mixed.yaml'))).equals(await readFile(join(src, 'policies', 'mixed.yaml')))).toBe(true);
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('is a file-writing flag: pull --apply refuses it', async () => {
    const r = await runCli(['pull', `${reg.host}/tree:v1`, '--apply', '--preserve-paths', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: pull --apply writes no files: --preserve-paths has no meaning with it\n');
  });
});
