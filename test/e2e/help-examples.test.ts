// Every example every `--help` prints must run. The examples are found, not listed (see
// test/support/examples.ts); each is run by bash exactly as printed — `kubectl policyoci` through
// the real kubectl's plugin lookup — after only these substitutions, with what it needs made first:
//   - registries (ghcr.io, localhost:5000, registry.internal, any host/repo): a real loopback
//     registry, each example in a repository namespace of its own; a registry named alone (login,
//     logout) is a second one with htpasswd, whose user and password stand in for `-u` and $TOKEN;
//   - what an example reads exists: a repository it reads holds a signed policy artifact with
//     policies attached (`app` holds an image), `@sha256:…` becomes its digest, an OCI layout it
//     reads holds the artifact; files and directories of policies, cosign.key/cosign.pub (encrypted,
//     password in COSIGN_PASSWORD=…), other *.key (plain PEM) of one key pair;
//   - kubeconfig contexts it names: --to-context names a second cluster, every other context (and
//     the current one) the first, which holds the example policies (one labelled team=platform, one
//     in namespace team-a).
// An example that cannot be made runnable this way fails with the reason: change the example.
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/signing/keys.ts';
import { EXECUTABLE, REPO_ROOT, runOk, runProcess, type CliResult } from '../support/cli.ts';
import { startCluster, writeKubeconfig, type RunningCluster } from '../support/cluster.ts';
import { discoverExamples, type HelpExample } from '../support/examples.ts';
import { clusterUser } from '../support/kubeconfig.ts';
import { pushTestImage } from '../support/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { toolPath } from '../support/tools.ts';

const EXAMPLE_POLICIES = join(REPO_ROOT, 'examples', 'policies');
const PASSWORD = randomBytes(12).toString('hex');
const { examples, problems } = await discoverExamples();

/** Two policies the examples' selections need: one labelled team=platform, one in namespace team-a. */
const EXTRA_POLICIES: Record<string, string> = {
  'platform-team-label.yaml': `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: platform-team-label
  labels:
    team: platform
spec:
  background: true
  rules:
  - name: require-team
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      failureAction: Audit
      message: "the label team is required"
      pattern:
        metadata:
          labels:
            team: "?*"
`,
  'team-a-require-owner.yaml': `apiVersion: kyverno.io/v1
kind: Policy
metadata:
  name: require-owner
  namespace: team-a
spec:
  background: true
  rules:
  - name: require-owner
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      failureAction: Audit
      message: "the label owner is required"
      pattern:
        metadata:
          labels:
            owner: "?*"
`,
};

// ---------------------------------------------------------------------------------------------
// Reading an example: shell words, and what each one is.

interface Word {
  value: string;
  quote: '' | "'" | '"';
  /** A shell operator (|, &&, ;, >, <(, )…), not a word. */
  operator?: boolean;
}

/** Splits a one-line shell command into words and operators (quotes kept aside; no escapes in examples). */
function shellWords(line: string): Word[] {
  const words: Word[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\|\||&&|\||;|>>|>|<\(|\)|<)|([^\s'"|&;<>()]+)/g;
  for (const m of line.matchAll(re)) {
    if (m[1] !== undefined) words.push({ value: m[1], quote: "'" });
    else if (m[2] !== undefined) words.push({ value: m[2], quote: '"' });
    else if (m[3] !== undefined) words.push({ value: m[3], quote: '', operator: true });
    else words.push({ value: m[4]!, quote: '' });
  }
  return words;
}

/**
 * Shell expressions of other shells' setups the test gives a place of its own (under the example's
 * HOME): zsh's first function directory.
 */
const SHELL_PLACES: Record<string, string> = { '${fpath[1]}': '.zsh/functions' };

const REGISTRY_REF = /^(oci:\/\/)?(localhost(?::\d+)?|[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)\/([^:@\s]+)(:[^@\s]+)?(@sha256:\S+)?$/;
const FILE_EXTENSION = /\.(ya?ml|json|key|pub|pem|crt|txt|gz|tgz|tar)$/;
const BARE_HOST = /^(localhost(?::\d+)?|[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)$/;
const OUTPUT_FLAGS = new Set(['-o', '-d', '--output', '--dir', '--output-dir']);
const LAYOUT_FLAGS = ['--oci-layout', '--from-oci-layout', '--to-oci-layout'];
/** Which reference a command writes (the others it reads): push and export their REF, copy its DST, migrate --via. */
const WRITTEN_REF: Record<string, (refs: number[], words: Word[]) => number | undefined> = {
  push: (refs) => refs[0],
  export: (refs) => refs[0],
  copy: (refs) => refs[1],
  migrate: (refs, words) => refs.find((i) => words[i - 1]?.value === '--via'),
};

interface Plan {
  /** The command line to run. */
  line: string;
  /** Registry repositories (host/ns/repo) to fill before running, with the tag to fill. */
  repositories: Array<{ repository: string; tag: string; kind: FixtureKind }>;
  layouts: Array<{ dir: string; tag: string }>;
  policyFiles: string[];
  policyDirs: string[];
  keys: string[];
  contexts: { source: Set<string>; target: Set<string> };
  /** Directories a redirection writes into (a user who runs it has them). */
  redirectDirs: string[];
  /** Why it cannot be made runnable, if it cannot. */
  problems: string[];
}

/** `bundle`: what `flux` reads (Kyverno policies pushed with --bundle: one tar+gzip layer). */
type FixtureKind = 'policies' | 'app' | 'bundle';

interface Setup {
  registry: RunningRegistry;
  auth: RunningRegistry;
  digests: Record<FixtureKind, string>;
}

function isPathLike(v: string): boolean {
  return /^(\.{1,2}\/|\/)/.test(v);
}

/** What an example needs and the line to run, for the example's own namespace `ns`. */
function plan(example: HelpExample, ns: string, setup: Setup, dirs: { cwd: string; home: string }): Plan {
  const words = shellWords(example.text);
  const p: Plan = { line: '', repositories: [], layouts: [], policyFiles: [], policyDirs: [], keys: [], contexts: { source: new Set(), target: new Set() }, redirectDirs: [], problems: [] };
  const start = words.findIndex((w, i) => w.value === 'kubectl' && words[i + 1]?.value === 'policyoci');
  if (start < 0) p.problems.push('it does not run `kubectl policyoci`');
  const verb = words[start + 2]?.value ?? '';
  const end = words.findIndex((w, i) => i > start && w.operator === true);
  const ours = (i: number) => i > start && (end < 0 || i < end);
  const hasLayout = words.some((w, i) => ours(i) && LAYOUT_FLAGS.includes(w.value));

  // The references of our command (registry or layout), in order.
  const refs: number[] = [];
  let firstPath = true;
  words.forEach((w, i) => {
    if (!ours(i) || i <= start + 2 || w.value.startsWith('-')) return;
    if (OUTPUT_FLAGS.has(words[i - 1]?.value ?? '')) return;
    if (REGISTRY_REF.test(w.value)) refs.push(i);
    else if (hasLayout && isPathLike(w.value) && !FILE_EXTENSION.test(w.value) && (/[:@]/.test(w.value) || firstPath)) refs.push(i);
    if (isPathLike(w.value)) firstPath = false;
  });
  const written = WRITTEN_REF[verb]?.(refs, words);
  // rollback REPO --to TAG|sha256:…: the version it reads is the fixture, at that tag or digest.
  const rollbackRepo = verb === 'rollback' && refs[0] !== undefined ? REGISTRY_REF.exec(words[refs[0]]!.value) : null;

  const out = words.map((w, i): Word => {
    const v = w.value;
    const prev = words[i - 1]?.value ?? '';
    if (w.operator) return w;
    // What a redirection writes: under HOME or the working directory, never elsewhere.
    if (words[i - 1]?.operator && (prev === '>' || prev === '>>')) {
      let target = v;
      for (const [expression, place] of Object.entries(SHELL_PLACES)) target = target.replace(expression, join(dirs.home, place));
      target = target.replace(/^~(?=\/)/, dirs.home);
      const full = target.startsWith('/') ? target : join(dirs.cwd, target);
      if (!full.startsWith(`${dirs.home}/`) && !full.startsWith(`${dirs.cwd}/`)) p.problems.push(`${v}: it writes outside the user's directories`);
      else p.redirectDirs.push(dirname(full));
      return { ...w, value: target };
    }
    // NAME=… before the command: the value it stands for.
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(v);
    if (assignment && (i === 0 || words[i - 1]?.operator)) {
      if (assignment[2] !== '…') return w;
      if (assignment[1] === 'COSIGN_PASSWORD') return { ...w, value: `COSIGN_PASSWORD=${PASSWORD}` };
      p.problems.push(`no value is known for ${assignment[1]}=…`);
      return w;
    }
    if (OUTPUT_FLAGS.has(prev)) return w;
    if (prev === '--to' && rollbackRepo) {
      const repository = `${setup.registry.host}/${ns}/${rollbackRepo[3]}`;
      p.repositories.push({ repository, tag: v === 'sha256:…' ? 'fixture' : v, kind: 'policies' });
      return v === 'sha256:…' ? { ...w, value: setup.digests.policies } : w;
    }
    if (prev === '--context' || prev === '--from-context') p.contexts.source.add(v);
    if (prev === '--to-context') p.contexts.target.add(v);
    if ((prev === '-u' || prev === '--username') && setup.auth.username) return { ...w, value: setup.auth.username };
    if (refs.includes(i)) {
      const ref = REGISTRY_REF.exec(v);
      if (ref) {
        const [, , , repo, tags, digest] = ref;
        const repository = `${setup.registry.host}/${ns}/${repo}`;
        const kind: FixtureKind = basename(repo!) === 'app' ? 'app' : verb === 'flux' ? 'bundle' : 'policies';
        if (i !== written) p.repositories.push({ repository, tag: digest ? 'fixture' : (tags?.slice(1).split(',')[0] ?? 'latest'), kind });
        const pinned = digest === '@sha256:…' ? `@${setup.digests[kind]}` : (digest ?? '');
        return { ...w, value: `${repository}${tags ?? ''}${pinned}` };
      }
      const layout = /^(.*?)(?::([\w][\w.-]*))?(@sha256:\S+)?$/.exec(v)!;
      if (i !== written && prev !== '--via') p.layouts.push({ dir: layout[1]!, tag: layout[2] ?? 'v1' });
      return w;
    }
    // A registry host is a positional (login ghcr.io); a flag's value that looks like one
    // (--kind validatingpolicies.policies.kyverno.io, --kyverno-format bundle-1.0) is not.
    const flagValue = prev !== undefined && prev.startsWith('-') && !prev.includes('=');
    if (w.quote !== "'" && BARE_HOST.test(v) && !FILE_EXTENSION.test(v) && ours(i) && !flagValue) return { ...w, value: setup.auth.host };
    if (/[*?[]/.test(v)) return w; // a glob (e.g. --exclude '*-draft.yaml'), not a file
    if (/\.(ya?ml|json)$/.test(v) && !v.startsWith('-')) p.policyFiles.push(v);
    else if (/\.(key|pub)$/.test(v)) p.keys.push(v);
    else if (/\.(pem|crt)$/.test(v)) p.problems.push(`${v}: the test makes no certificates`);
    else if (isPathLike(v) && ours(i)) p.policyDirs.push(v);
    return w;
  });
  if (words.some((w, i) => w.value.includes('…') && !/^[A-Z_]+=…$/.test(w.value) && !w.value.endsWith('@sha256:…') && !(rollbackRepo && w.value === 'sha256:…' && words[i - 1]?.value === '--to'))) {
    p.problems.push('a "…" placeholder the test cannot fill');
  }
  if (words.some((w) => /\$\{/.test(w.value) && !Object.keys(SHELL_PLACES).some((e) => w.value.includes(e)))) p.problems.push('a shell expression the test has no place for');
  p.line = out.map((w) => (w.quote ? `${w.quote}${w.value}${w.quote}` : w.value)).join(' ');
  return p;
}

// ---------------------------------------------------------------------------------------------

function bash(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runProcess('bash', ['-o', 'pipefail', '-c', line], { cwd, env });
}

describe('every example of every --help runs', () => {
  let registry: RunningRegistry;
  let auth: RunningRegistry;
  let source: RunningCluster;
  let target: RunningCluster;
  let work: string;
  let setup: Setup;
  const keys: { encrypted: string; pem: string; pub: string } = { encrypted: '', pem: '', pub: '' };
  let policyDir: string;
  let policyFiles: string[];
  let baseEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [registry, auth, source, target] = await Promise.all([startRegistry('open'), startRegistry('htpasswd'), startCluster('examples-a'), startCluster('examples-b')]);
    work = await mkdtemp(join(tmpdir(), 'help-examples-'));
    const pair = await generateKeyPair(PASSWORD);
    keys.encrypted = pair.privateKey;
    keys.pem = pair.key.export({ format: 'pem', type: 'pkcs8' }).toString();
    keys.pub = pair.publicKey;
    // The policies: the repository's examples and the two the selections need.
    policyDir = join(work, 'policies');
    await cp(EXAMPLE_POLICIES, policyDir, { recursive: true });
    for (const [name, text] of Object.entries(EXTRA_POLICIES)) await writeFile(join(policyDir, name), text);
    policyFiles = (await readdir(policyDir, { recursive: true })).filter((f) => f.endsWith('.yaml')).map((f) => join(policyDir, f)).sort();
    await writeFile(join(work, 'cosign.key'), keys.encrypted);
    const signEnv = { env: { COSIGN_PASSWORD: PASSWORD } };
    // The fixtures, copied (with everything attached) where an example reads.
    const policies = `${registry.host}/fixture/policies:v1`;
    const app = `${registry.host}/fixture/app:v1`;
    const pushed = JSON.parse((await runOk(['push', policies, policyDir, '--format', 'json'])).stdout) as { digest: string };
    await runOk(['sign', policies, '--key', join(work, 'cosign.key')], signEnv);
    const bundle = `${registry.host}/fixture/bundle:v1`;
    const bundled = JSON.parse((await runOk(['push', bundle, join(policyDir, 'kyverno'), '--bundle', '--format', 'json'])).stdout) as { digest: string };
    await runOk(['sign', bundle, '--key', join(work, 'cosign.key')], signEnv);
    const appDigest = await pushTestImage(app);
    await runOk(['attach', app, policyDir]);
    await runOk(['sign', app, '--key', join(work, 'cosign.key')], signEnv);
    setup = { registry, auth, digests: { policies: pushed.digest, app: appDigest, bundle: bundled.digest } };
    // The first cluster holds the policies.
    await runOk(['apply', policies, '--kubeconfig', source.kubeconfigs.admin]);

    const path = [dirname(EXECUTABLE), dirname(toolPath('kubectl')), process.env.PATH ?? ''].join(':');
    baseEnv = { ...process.env, PATH: path, NO_COLOR: '1', CI: '1', TOKEN: auth.password };
    for (const name of ['COSIGN_PASSWORD', 'REGISTRY_AUTH_FILE', 'KUBECONFIG', 'DOCKER_CONFIG', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME']) delete baseEnv[name];
    // HOME is the example's own (so ~ and shell setups land there); checked files are still cached once for all.
    baseEnv.POLICYOCI_CACHE_DIR ??= join(work, 'cache');
  }, 600_000);
  afterAll(async () => {
    await Promise.all([registry?.stop(), auth?.stop(), source?.stop(), target?.stop()]);
  });

  it('finds the examples of every command, exactly as --help prints them', () => {
    expect(problems).toEqual([]);
    expect(new Set(examples.map((e) => e.command)).size).toBeGreaterThanOrEqual(10);
  });

  /** Makes what the plan needs in `cwd`, and the example's own kubeconfig and docker config. */
  async function prepare(p: Plan, cwd: string, side: string, home: string): Promise<NodeJS.ProcessEnv> {
    for (const dir of p.redirectDirs) await mkdir(dir, { recursive: true });
    for (const [i, file] of p.policyFiles.entries()) {
      await mkdir(dirname(join(cwd, file)), { recursive: true });
      await writeFile(join(cwd, file), await readFile(policyFiles[i % policyFiles.length]!));
    }
    for (const dir of p.policyDirs) {
      // A Kyverno CEL Policy Bundle holds policies.kyverno.io kinds only: its directory gets just those.
      const celOnly = p.line.includes('--kyverno-format bundle-1.0');
      await cp(policyDir, join(cwd, dir), { recursive: true, filter: async (src) => !celOnly || !src.endsWith('.yaml') || (await readFile(src, 'utf8')).startsWith('apiVersion: policies.kyverno.io/') });
    }
    for (const key of p.keys) {
      const text = key.endsWith('.pub') ? keys.pub : basename(key) === 'cosign.key' ? keys.encrypted : keys.pem;
      await mkdir(dirname(join(cwd, key)), { recursive: true });
      await writeFile(join(cwd, key), text, { mode: 0o600 });
    }
    for (const r of p.repositories) await runOk(['copy', '-r', `${registry.host}/fixture/${r.kind}:v1`, `${r.repository}:${r.tag}`]);
    for (const l of p.layouts) await runOk(['copy', '-r', `${registry.host}/fixture/policies:v1`, '--to-oci-layout', `${join(cwd, l.dir)}:${l.tag}`]);
    // Contexts: --to-context names the second cluster; the current context and every other the first.
    const contexts = [
      { name: 'current', cluster: source },
      ...[...p.contexts.source].map((name) => ({ name, cluster: source })),
      ...[...p.contexts.target].map((name) => ({ name, cluster: target })),
    ];
    const kubeconfig = writeKubeconfig(join(side, 'kubeconfig'), {
      clusters: [source, target].map((c) => ({ name: c.name, server: c.server, caFile: c.caFile })),
      users: [source, target].map((c) => clusterUser(c, 'admin', c.name)),
      contexts: contexts.map((c) => ({ name: c.name, cluster: c.cluster.name, user: c.cluster.name })),
      currentContext: 'current',
    });
    // Logged in to the second registry already (for logout).
    const dockerConfig = join(side, 'docker');
    await mkdir(dockerConfig);
    const authValue = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [auth.host]: { auth: authValue } } }), { mode: 0o600 });
    return { ...baseEnv, HOME: home, KUBECONFIG: kubeconfig, DOCKER_CONFIG: dockerConfig };
  }

  it.each(examples.map((e, i) => [`${e.command}: ${e.text}`, e, i] as const))('%s', async (_name, example, index) => {
    const ns = `ex${index}-${createHash('sha256').update(example.text).digest('hex').slice(0, 6)}`;
    const cwd = join(work, ns, 'cwd');
    const side = join(work, ns, 'side');
    const home = join(work, ns, 'home');
    const p = plan(example, ns, setup, { cwd, home });
    expect(p.problems, `the test cannot make this example runnable; change it: ${example.text}`).toEqual([]);
    for (const dir of [cwd, side, home]) await mkdir(dir, { recursive: true });
    const env = await prepare(p, cwd, side, home);
    const ran = await bash(p.line, cwd, env);
    const report = `example: ${example.text}\nran: ${p.line}\nexit ${ran.code}\nstdout: ${ran.stdout.slice(-2000)}\nstderr: ${ran.stderr.slice(-2000)}`;
    // diff exits 1 when apply would change something: that is an answer, not a failure.
    // status exits 1 when something drifted (the examples share the cluster): an answer too.
    const ok = ran.code === 0 || (/policyoci (diff|status)/.test(example.text) && ran.code === 1 && !ran.stderr.includes('Error:'));
    expect(ok, report).toBe(true);
    expect(ran.stderr, report).not.toMatch(/^Error:/m);
  }, 180_000);
});
