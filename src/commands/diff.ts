import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { applyBuilder, type ApplyArgs } from './apply.ts';
import { kubeOptionsFrom } from './kubeflags.ts';
import { limitsFrom } from './limits.ts';

export const command = 'diff [ref]';
export const describe = 'Show what apply would change in the cluster (server-side dry run); exit 1 when it would';

export function builder(y: Argv): Argv<ApplyArgs> {
  return applyBuilder(y)
    .example('$0 diff ghcr.io/acme/policies:v1 --context prod', 'Review before applying')
    .example('$0 diff ghcr.io/acme/policies:v1 --prune', 'Also show what --prune would delete');
}

export async function handler(args: ApplyArgs): Promise<void> {
  const ref = args.image ?? args.ref;
  if (!ref) throw new PolicyOciError('USAGE', 'diff needs a reference (REF or -i REF)');
  const [{ readArtifact }, { openTarget }, { KubeClient }, { diffPolicies }, { render }] = await Promise.all([
    import('../artifact/unpack.ts'),
    import('../content/open.ts'),
    import('../kube/client.ts'),
    import('../kube/diff.ts'),
    import('../output/render.ts'),
  ]);
  const opened = await openTarget(ref, args, { push: false });
  const read = await readArtifact(opened.target, opened.reference, { limits: limitsFrom(args) });
  const objects = read.policies.filter((p) => !args.engine?.length || args.engine.includes(p.engine)).map((p) => p.object);
  const client = KubeClient.fromKubeconfig(kubeOptionsFrom(args));
  const results = await diffPolicies(client, objects, {
    ...(args.namespace ? { namespace: args.namespace } : {}),
    forceConflicts: args['force-conflicts'] ?? false,
    ...(args.prune ? { prune: { repository: opened.repository } } : {}),
  });
  const changed = results.filter((r) => r.changed);
  const errors = results.filter((r) => r.change === 'error');
  render(args.format, { reference: opened.display, digest: read.root.digest, context: client.contextName, changed: changed.length, results }, (r) =>
    [
      ...r.results.filter((x) => x.diff).map((x) => x.diff.trimEnd()),
      ...errors.map((x) => `${x.kind.toLowerCase()}/${x.namespace ? `${x.namespace}/` : ''}${x.name}: ${x.error ?? 'error'}`),
      `${r.changed} of ${r.results.length} object(s) would change in context ${r.context}`,
    ].join('\n'),
  );
  if (errors.length > 0) throw new PolicyOciError('CLUSTER', `${errors.length} object(s) could not be compared`);
  // Like `kubectl diff`: 1 means "there are differences", not a failure.
  if (changed.length > 0) process.exitCode = 1;
}
