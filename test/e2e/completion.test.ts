// Issue 13, item 6: shell completion. `completion bash|zsh|fish|kubectl` prints a script (and its
// --help prints help); every script asks the executable, `__complete WORD… CURRENT`, which answers
// in Cobra's protocol, the one kubectl (>= 1.26) speaks to `kubectl_complete-policyoci`. Tested
// through the executable, bash sourcing the bash script, the real kubectl completing
// `kubectl policyoci …`, a kubeconfig's contexts and a real API server's namespaces.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTABLE, runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster, writeClusterKubeconfig, writeKubeconfig, type RunningCluster } from '../support/cluster.ts';
import { toolPath } from '../support/tools.ts';

const exec = promisify(execFile);
const PATH = [dirname(EXECUTABLE), dirname(toolPath('kubectl')), process.env.PATH ?? ''].join(':');

/** The candidates (names only) and the directive `__complete` answers for these words. */
async function complete(words: string[], env: NodeJS.ProcessEnv = {}): Promise<{ names: string[]; directive: number; lines: string[] }> {
  const r = await runOk(['__complete', ...words], { env });
  const lines = r.stdout.replace(/\n$/, '').split('\n');
  const last = lines.pop() ?? '';
  expect(last, `directive line of ${words.join(' ')}`).toMatch(/^:\d+$/);
  return { names: lines.map((l) => l.split('\t')[0]!), directive: Number(last.slice(1)), lines };
}

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'policyoci-completion-'));
});

describe('completion scripts', () => {
  it('completion bash|zsh|fish|kubectl print their script; completion --help prints help, not a script', async () => {
    for (const shell of ['bash', 'zsh', 'fish', 'kubectl']) {
      const r = await runOk(['completion', shell]);
      expect(r.stdout, shell).toContain('__complete');
      expect(r.stderr, shell).toBe('');
    }
    expect((await runOk(['completion', 'bash'])).stdout).toMatch(/^complete -F _kubectl_policyoci_complete kubectl-policyoci$/m);
    expect((await runOk(['completion', 'zsh'])).stdout).toMatch(/^#compdef kubectl-policyoci$/m);
    expect((await runOk(['completion', 'fish'])).stdout).toMatch(/^complete -c kubectl-policyoci /m);
    expect((await runOk(['completion', 'kubectl'])).stdout).toMatch(/^#!\/bin\/sh\n/);
    for (const args of [['completion', '--help'], ['completion', 'bash', '--help']]) {
      const help = await runOk(args);
      expect(help.stdout, args.join(' ')).toMatch(/^kubectl policyoci completion <shell>\n/);
      expect(help.stdout, args.join(' ')).not.toContain('__complete');
    }
    const none = await runCli(['completion']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Error: completion needs <shell>\n/);
    const json = await runCli(['completion', 'bash', '--format', 'json']);
    expect(json.code).toBe(2);
  });

  it('the build ships kubectl_complete-policyoci beside the executable: the kubectl script, executable', async () => {
    const file = join(dirname(EXECUTABLE), 'kubectl_complete-policyoci');
    expect(readFileSync(file, 'utf8')).toBe((await runOk(['completion', 'kubectl'])).stdout);
    await exec(file, ['pu']); // runs (it is executable) and answers
    expect((await exec(file, ['pu'])).stdout).toMatch(/^push\t.*\npull\t.*\n:4\n$/);
  });
});

describe('__complete', () => {
  it('offers one-letter aliases as -u, never --u; flags only once a word starts with -; files for positionals', async () => {
    const long = await complete(['push', '--']);
    expect(long.names).toEqual(expect.arrayContaining(['--username', '--image', '--policy', '--annotation', '--format', '--quiet', '--verbose', '--progress', '--no-progress']));
    expect(long.names.filter((n) => /^--.$/.test(n)), 'no bogus --u --i --p --a').toEqual([]);
    expect(long.names.every((n) => n.startsWith('--'))).toBe(true);
    expect(long.directive).toBe(4);
    const short = await complete(['push', '-']);
    expect(short.names).toEqual(expect.arrayContaining(['-u', '-i', '-p', '-a', '-q', '-v', '--username']));
    expect((await complete(['push', '--us'])).names).toEqual(['--username']);
    const positional = await complete(['push', '']);
    expect(positional).toMatchObject({ names: [], directive: 0 }); // the shell completes file names
    expect((await complete(['pu'])).names).toEqual(['push', 'pull']);
    expect((await complete(['pull', '--format', ''])).names).toEqual(['text', 'json']);
    expect((await complete(['pull', '--referrers-mode=a'])).names).toEqual(['--referrers-mode=auto', '--referrers-mode=api']);
    expect((await complete(['completion', ''])).names).toEqual(['bash', 'zsh', 'fish', 'kubectl']);
    // Descriptions ride along, after a tab.
    expect((await complete(['pu'])).lines[0]).toMatch(/^push\tValidate policy files/);
  });

  it('bash: the sourced script fills COMPREPLY', async () => {
    const script = [
      'source <(kubectl-policyoci completion bash)',
      't() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _kubectl_policyoci_complete; echo "${COMPREPLY[*]}"; }',
      't kubectl-policyoci pu',
      't kubectl-policyoci push --us',
      't kubectl-policyoci pull --format ""',
      't kubectl-policyoci completion f',
    ].join('\n');
    const { stdout } = await exec('bash', ['-c', script], { env: { ...process.env, PATH } });
    expect(stdout.split('\n').slice(0, 4)).toEqual(['push pull', '--username', 'text json', 'fish']);
  });

  it('kubectl policyoci <TAB>: kubectl finds kubectl_complete-policyoci on PATH and completes through it', async () => {
    const env = { ...process.env, PATH };
    const commands = await exec('kubectl', ['__complete', 'policyoci', 'pu'], { env });
    expect(commands.stdout).toMatch(/^push\tValidate policy files.*\npull\t.*\n:4\n/);
    const flags = await exec('kubectl', ['__complete', 'policyoci', 'push', '--us'], { env });
    expect(flags.stdout).toMatch(/^--username\t.*\n:4\n/);
  });

  it('--context offers the kubeconfig contexts (--kubeconfig, else KUBECONFIG)', async () => {
    const kubeconfig = writeKubeconfig(join(work, 'two-contexts'), {
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [
        { name: 'staging', cluster: 'c', user: 'u' },
        { name: 'prod', cluster: 'c', user: 'u' },
      ],
    });
    expect((await complete(['apply', '--kubeconfig', kubeconfig, '--context', ''])).names).toEqual(['prod', 'staging']);
    expect((await complete(['apply', '--context', 'st'], { KUBECONFIG: kubeconfig })).names).toEqual(['staging']);
    expect((await complete(['diff', '--kubeconfig', kubeconfig, '--context=p'])).names).toEqual(['--context=prod']);
    expect((await complete(['migrate', '--from-context', ''], { KUBECONFIG: kubeconfig })).names).toEqual(['prod', 'staging']);
    const none = await complete(['apply', '--context', ''], { KUBECONFIG: join(work, 'missing') });
    expect(none).toMatchObject({ names: [], directive: 4 });
  });
});

describe('__complete -n/--namespace', () => {
  let cluster: RunningCluster;
  let silent: Server;

  beforeAll(async () => {
    cluster = await startCluster('completion', { installCrds: false });
    const agent = clusterAgent(cluster);
    const created = await kubeRequest(cluster.server, '/api/v1/namespaces', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-completion' } },
      token: cluster.adminToken,
      dispatcher: agent,
    });
    expect(created.status, created.text).toBe(201);
    // A server that accepts connections and never answers: the cluster a TAB must not wait for.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  }, 180_000);

  afterAll(async () => {
    silent?.close();
    await cluster?.stop();
  });

  it('offers the namespaces of the context\'s cluster, and nothing (fast) when the cluster does not answer', async () => {
    const kubeconfig = writeClusterKubeconfig(cluster, join(work, 'cluster'), { credentials: 'token' });
    const all = await complete(['apply', '--kubeconfig', kubeconfig, '-n', '']);
    expect(all.names).toEqual(expect.arrayContaining(['default', 'kube-system', 'team-completion']));
    expect(all.directive).toBe(4);
    expect((await complete(['export', '--kubeconfig', kubeconfig, '--namespace', 'team-c'])).names).toEqual(['team-completion']);
    const port = (silent.address() as { port: number }).port;
    const unreachable = writeKubeconfig(join(work, 'silent'), {
      clusters: [{ name: 's', server: `https://127.0.0.1:${port}`, insecureSkipTlsVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 's', cluster: 's', user: 'u' }],
    });
    const started = Date.now();
    const none = await complete(['apply', '--kubeconfig', unreachable, '-n', '']);
    expect(none).toMatchObject({ names: [], directive: 4 });
    expect(Date.now() - started, 'a TAB waits at most ~2 s').toBeLessThan(4000);
  });
});
