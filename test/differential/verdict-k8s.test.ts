// File by file over the corpus, our push verdict (the loader with validation: what `push` checks
// before anything is sent) must be the API server's verdict for the file's own bytes: each
// document, as kubectl cuts the stream, sent as YAML with a server-side dry run and strict field
// validation (the server's strict YAML decoding then also sees duplicate keys).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/load.ts';
import { clusterAgent, corpusCrds, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles } from '../support/corpus.ts';
import { kubectlRead } from '../support/k8s-yaml.ts';
import type { Agent } from 'undici';

let cluster: RunningCluster;
let agent: Agent;

beforeAll(async () => {
  cluster = await startCluster('verdict');
  agent = clusterAgent(cluster);
}, 300_000);

afterAll(async () => {
  await agent?.close();
  await cluster?.stop();
});

/** The pieces kubectl cuts a stream into (at lines starting with `---`), without the empty ones. */
function chunks(text: string): string[] {
  return text
    .split(/^---.*$/m)
    .filter((c) => c.replace(/#.*$/gm, '').trim() !== '');
}

type Reading = ReturnType<typeof kubectlRead>;

async function serverVerdict(pieces: string[], reading: Reading): Promise<{ ok: boolean; why?: string }> {
  const crds = corpusCrds();
  if (pieces.length === 0) return { ok: false, why: 'no object' };
  for (const [i, piece] of pieces.entries()) {
    const obj = reading[i]!.objects[0] as { apiVersion?: string; kind?: string; metadata?: { namespace?: string } } | undefined;
    if (!obj || reading[i]!.objects.length !== 1) {
      // Not one object: the server cannot even be asked (kubectl fails before sending).
      if (reading[i]!.errors.length || reading[i]!.strict) return { ok: false, why: reading[i]!.errors[0] ?? reading[i]!.strict };
      continue;
    }
    const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    const crd = crds.find((c) => c.group === group && c.kind === obj.kind && c.servedVersions.includes(version ?? ''));
    if (!crd) return { ok: false, why: `no served resource for ${obj.apiVersion}/${obj.kind}` };
    const ns = crd.scope === 'Namespaced' ? `namespaces/${obj.metadata?.namespace ?? 'default'}/` : '';
    const path = `/apis/${group}/${version}/${ns}${crd.plural}?dryRun=All&fieldValidation=Strict`;
    const send = () => kubeRequest(cluster.server, path, { method: 'POST', body: piece, contentType: 'application/yaml', token: cluster.adminToken, dispatcher: agent });
    let res = await send();
    if (res.status === 404 && /namespaces? .* not found/.test(res.text)) {
      // A sample's namespace need not exist yet: no verdict on the file. Create it, ask again.
      const name = obj.metadata?.namespace ?? 'default';
      await kubeRequest(cluster.server, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, token: cluster.adminToken, dispatcher: agent });
      res = await send();
    }
    if (res.status >= 300) {
      return { ok: false, why: `${res.status} ${(res.json as { message?: string } | undefined)?.message ?? res.text}`.slice(0, 400) };
    }
  }
  return { ok: true };
}

async function ourVerdict(file: string): Promise<{ ok: boolean; why?: string }> {
  try {
    await loadPolicies([file], { validate: true });
    return { ok: true };
  } catch (err) {
    return { ok: false, why: (err as Error).message.slice(0, 400) };
  }
}

describe('our push verdict is the API server’s (strict field validation, server-side dry run)', () => {
  it('every engine policy file of the corpus, and every bad file', async () => {
    const files = corpusFiles().filter((f) => /^(kyverno|kubearmor)\/(policies|samples)\//.test(f.path) || f.path.startsWith('bad/'));
    const pieces = files.map((f) => chunks(readFileSync(f.absolute, 'utf8')));
    const readings = kubectlRead(pieces.flat()); // one process for every document
    const differ: string[] = [];
    let agree = 0;
    let accepted = 0;
    let at = 0;
    for (const [i, f] of files.entries()) {
      const reading = readings.slice(at, (at += pieces[i]!.length));
      const [ours, server] = await Promise.all([ourVerdict(f.absolute), serverVerdict(pieces[i]!, reading)]);
      if (server.ok) accepted++;
      if (ours.ok === server.ok) agree++;
      else differ.push(`${f.path}: we ${ours.ok ? 'accept' : `refuse (${ours.why})`}, the API server ${server.ok ? 'accepts' : `refuses (${server.why})`}`);
    }
    console.log(`verdicts: ${agree} of ${files.length} files agree (the API server accepts ${accepted}, refuses ${files.length - accepted})`);
    expect(differ.join('\n'), `${differ.length} of ${files.length} verdicts differ`).toBe('');
    expect(files.length).toBeGreaterThan(1200);
    // Both verdicts occur: a server that refused (or accepted) everything would prove nothing.
    expect(accepted).toBeGreaterThan(1000);
    expect(files.length - accepted).toBeGreaterThan(10);
  }, 600_000);
});
