// apply --wait against the engines the test cluster really runs: ValidatingAdmissionPolicy type
// checking by the real kube-controller-manager (only its validatingadmissionpolicy-status-controller),
// a Kyverno ClusterPolicy whose CRD is served but whose controller does not run ("not reported",
// not a hang), KubeArmor (reports nothing at all), and a policy that never becomes ready once the
// controller is stopped (exit 8 with what the engine last said), and Gatekeeper's real controller
// (a template and its constraint in force; a template whose Rego does not parse: exit 8 at once).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { installCorpusCrds } from '../support/crds.ts';
import { startControllerManager, type RunningControllerManager } from '../support/controller-manager.ts';
import { startGatekeeper, type RunningGatekeeper } from '../support/gatekeeper.ts';

let cluster: RunningCluster;
let kcm: RunningControllerManager;
let gatekeeper: RunningGatekeeper;
let work: string;

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';

beforeAll(async () => {
  cluster = await startCluster('wait', { installCrds: false });
  await installCorpusCrds(cluster, ['clusterpolicies.kyverno.io', 'kubearmorpolicies.security.kubearmor.com']);
  [kcm, gatekeeper] = await Promise.all([startControllerManager(cluster, ['validatingadmissionpolicy-status-controller']), startGatekeeper(cluster)]);
  work = await mkdtemp(join(tmpdir(), 'wait-'));
}, 240_000);

afterAll(async () => {
  await Promise.all([kcm?.stop(), gatekeeper?.stop()]);
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function vap(name: string, expression: string, message = 'too many replicas'): object {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
      validations: [{ expression, message }],
    },
  };
}

const binding = (name: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name },
  spec: { policyName: name, validationActions: ['Deny'] },
});

const clusterPolicy = (name: string) => ({
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: { name },
  spec: { rules: [{ name: 'check', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { message: 'label app', pattern: { metadata: { labels: { app: '?*' } } } } }] },
});

const ksp = (name: string) => ({
  apiVersion: 'security.kubearmor.com/v1',
  kind: 'KubeArmorPolicy',
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'nginx' } }, file: { matchDirectories: [{ dir: '/var/cache/nginx/' }] }, action: 'Audit' },
});

/** The objects as an OCI layout artifact; returns its reference (DIR:tag). */
async function layoutOf(tag: string, objects: object[]): Promise<string> {
  const dir = join(work, `src-${tag}`);
  await mkdir(dir);
  for (const [i, o] of objects.entries()) await writeFile(join(dir, `${i}.yaml`), stringify(o));
  const ref = `${join(work, 'layout')}:${tag}`;
  await runOk(['push', '--oci-layout', ref, dir, '-q']);
  return ref;
}

interface Readiness {
  results: Array<{ kind: string; name: string; outcome: string; reporter?: string; message?: string; warnings?: string[] }>;
  counts: Record<string, number>;
  failed: boolean;
}

function readinessOf(r: CliResult): Readiness {
  const parsed = JSON.parse(r.stdout) as { readiness?: Readiness };
  if (!parsed.readiness) throw new Error(`no readiness in the result: ${r.stdout}`);
  return parsed.readiness;
}

const outcomeOf = (rd: Readiness, name: string, kind?: string) => {
  const found = rd.results.find((x) => x.name === name && (kind === undefined || x.kind === kind));
  if (!found) throw new Error(`${name} is not in ${JSON.stringify(rd.results)}`);
  return found;
};

const apply = (ref: string, ...extra: string[]) => runCli(['apply', '--oci-layout', ref, '--kubeconfig', cluster.kubeconfigs.admin, ...extra]);

describe('apply --wait', () => {
  it('a ValidatingAdmissionPolicy the API server type-checks clean: reported in force by kube-controller-manager; its binding, on which nothing reports, "not reported"', async () => {
    // Four more of the kind: read with one LIST per round, not a GET each.
    const more = ['a', 'b', 'c', 'd'].map((x) => vap(`wait-more-${x}`, 'object.spec.replicas <= 5'));
    const ref = await layoutOf('good', [vap('wait-good', 'object.spec.replicas <= 5'), binding('wait-good'), ...more]);
    const r = await apply(ref, '--wait=60s', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const rd = readinessOf(r);
    for (const x of ['a', 'b', 'c', 'd']) expect(outcomeOf(rd, `wait-more-${x}`).outcome).toBe('ready');
    expect(outcomeOf(rd, 'wait-good', 'ValidatingAdmissionPolicy')).toMatchObject({ outcome: 'ready', reporter: expect.stringMatching(/kube-controller-manager/) });
    expect(outcomeOf(rd, 'wait-good', 'ValidatingAdmissionPolicy').warnings).toBeUndefined();
    expect(outcomeOf(rd, 'wait-good', 'ValidatingAdmissionPolicyBinding')).toMatchObject({ outcome: 'not-reported', message: expect.stringMatching(/reports nothing on ValidatingAdmissionPolicyBinding objects/) });
    expect(rd.failed).toBe(false);
    // The same in text, re-applied (unchanged objects are waited for too: already in force).
    const text = await apply(ref, '--wait');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^validatingadmissionpolicy\/wait-good in force \(kube-controller-manager/m);
    expect(text.stdout).toMatch(/^--wait: 5 in force, 1 not reported, 0 refused, 0 not in force within 120s$/m);
  });

  it('a CEL expression naming a field Deployments lack: the type-checking warning is shown with its field, as a warning (the policy is in force)', async () => {
    const ref = await layoutOf('bad-cel', [vap('wait-bad-cel', 'object.spec.replicaz <= 5')]);
    const r = await apply(ref, '--wait=60s', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const found = outcomeOf(readinessOf(r), 'wait-bad-cel');
    expect(found.outcome).toBe('ready');
    expect(found.warnings).toEqual([expect.stringMatching(/^spec\.validations\[0\]\.expression: apps\/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicaz'/)]);
    const text = await apply(ref, '--wait=60s');
    expect(text.stdout).toMatch(/^ {4}warning: spec\.validations\[0\]\.expression: .*undefined field 'replicaz'$/m);
  });

  it('a Kyverno ClusterPolicy (CRD served, no Kyverno controller running) and a KubeArmorPolicy: "not reported", said instead of waiting to the timeout', async () => {
    const ref = await layoutOf('no-controller', [clusterPolicy('wait-kyverno'), ...['a', 'b', 'c', 'd'].map((x) => clusterPolicy(`wait-kyverno-${x}`)), ksp('wait-ksp')]);
    const r = await apply(ref, '--wait=3s', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const rd = readinessOf(r);
    expect(outcomeOf(rd, 'wait-kyverno')).toMatchObject({
      outcome: 'not-reported',
      message: expect.stringMatching(/^no ClusterPolicy object carries a report from Kyverno's controller after \d+s: is it running\? Applied, not confirmed in force$/),
    });
    expect(outcomeOf(rd, 'wait-ksp')).toMatchObject({ outcome: 'not-reported', message: expect.stringMatching(/^KubeArmor reports nothing on KubeArmorPolicy objects/) });
    expect(rd.counts).toMatchObject({ ready: 0, 'not-reported': 6, failed: 0, 'timed-out': 0 });
  });

  it('refused with a dry run (exit 2): nothing is applied to wait for', async () => {
    const ref = await layoutOf('dry', [vap('wait-dry', 'object.spec.replicas <= 5')]);
    for (const dry of ['--dry-run=server', '--dry-run=client']) {
      const r = await apply(ref, '--wait', dry);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--wait: a --dry-run=(server|client) applies nothing to wait for/);
    }
  });

  it('the controller stopped, a changed policy is never reported on its new generation: exit 8 with what the engine last said, the object applied', async () => {
    await kcm.stop();
    const ref = await layoutOf('never', [vap('wait-good', 'object.spec.replicas <= 7', 'changed')]);
    const r = await apply(ref, '--wait=3s', '--format', 'json');
    expect(r.code, r.stderr).toBe(8);
    const found = outcomeOf(readinessOf(r), 'wait-good');
    expect(found).toMatchObject({ outcome: 'timed-out', message: expect.stringMatching(/^not in force after 3s: kube-controller-manager .* has not yet seen generation 2 \(it reports 1\)$/) });
    expect(JSON.parse(r.stderr) as unknown).toMatchObject({ error: { exitCode: 8, message: expect.stringMatching(/^--wait: ValidatingAdmissionPolicy wait-good is not in force: not in force after 3s/) } });
    const agent = clusterAgent(cluster);
    try {
      const live = await kubeRequest(cluster.server, `${VAP}/wait-good`, { token: cluster.adminToken, dispatcher: agent });
      expect((live.json as { spec: { validations: Array<{ message: string }> } }).spec.validations[0]!.message).toBe('changed');
    } finally {
      await agent.close();
    }
  });

  const template = (kind: string, rego: string) => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: kind.toLowerCase() },
    spec: {
      crd: { spec: { names: { kind } } },
      targets: [{ target: 'admission.k8s.gatekeeper.sh', rego }],
    },
  });

  it('Gatekeeper (the real controller): a template and its constraint reported in force; a template whose Rego does not compile fails at once (exit 8) with Gatekeeper\'s own error', async () => {
    const good = template('WaitGood', 'package waitgood\nviolation[{"msg": "no"}] { input.review.object.metadata.name == "forbidden" }\n');
    const constraint = { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'WaitGood', metadata: { name: 'wait-good' }, spec: { match: { kinds: [{ apiGroups: [''], kinds: ['Pod'] }] } } };
    const ok = await apply(await layoutOf('gk-good', [good, constraint]), '--wait=60s', '--format', 'json');
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const rd = readinessOf(ok);
    expect(outcomeOf(rd, 'waitgood', 'ConstraintTemplate')).toMatchObject({ outcome: 'ready', reporter: "Gatekeeper's controller" });
    expect(outcomeOf(rd, 'wait-good', 'WaitGood')).toMatchObject({ outcome: 'ready' });

    const bad = template('WaitBad', 'package waitbad\nviolation[{"msg": "no"}] { input.review.object.metadata.name == \n');
    const r = await apply(await layoutOf('gk-bad', [bad]), '--wait=60s', '--format', 'json');
    expect(r.code, r.stderr + r.stdout).toBe(8);
    const found = outcomeOf(readinessOf(r), 'waitbad');
    expect(found).toMatchObject({ outcome: 'failed', reporter: "Gatekeeper's controller", message: expect.stringMatching(/rego_parse_error/) });
    expect(JSON.parse(r.stderr) as unknown).toMatchObject({ error: { exitCode: 8, message: expect.stringMatching(/^--wait: ConstraintTemplate waitbad is not in force: .*rego_parse_error/) } });
  });
});
