import type { Argv } from 'yargs';
import { FLEET_EPILOGUE } from './apply.ts';
import { fleetFrom, kubeOptionsFrom, withKubeFlags, type FleetFlags, type KubeFlags } from './kubeflags.ts';
import { storeOptionsFrom, withRegistryFlags, type RegistryFlags } from './options.ts';

interface StatusArgs extends RegistryFlags, KubeFlags, FleetFlags {
  repo?: string;
}

export const command = 'status [repo]';
export const describe = 'What runs where: the artifact digests live in each context, and what drifted from them';

const DETAILS =
  'Lists the policies this tool applied (label policyoci.dev/managed-by) in each context, grouped by the repository and artifact digest ' +
  'they record (annotations policyoci.dev/source, source-digest, source-tag, applied-at, applied-by, previous-digest), and reads each ' +
  'digest from its registry or OCI layout (once for every context) to compare: an object is drifted when it was changed by hand ' +
  '(a field the artifact sets differs, or another field manager such as kubectl-edit changed its spec after the apply), deleted, ' +
  'or applied since from another repository or by another tool. An engine none of whose policies from a digest is live is taken as ' +
  'left out by apply --engine, not as deleted. Nothing is written. Exit 0: no drift; 1: something drifted; 9 (several contexts): one ' +
  'failed or its artifact could not be read; one context: that error\'s own code.';

export function builder(y: Argv): Argv<StatusArgs> {
  return withKubeFlags(withRegistryFlags(y), { namespace: 'Only policies in this namespace (and cluster-scoped ones)', fleet: true })
    .positional('repo', { type: 'string', describe: 'Only what was applied from this repository (a tag or digest in it is ignored)' })
    .usage(`$0 status [repo]\n\n${describe}.\n${DETAILS}`)
    .example('$0 status --context prod', 'The digests live in prod, and drift')
    .example('$0 status ghcr.io/acme/policies --all-contexts', 'Where which version of one repository runs, in every context')
    .example("$0 status --context 'prod-*' --format json", 'The same for scripts: per context, artifacts and drifted objects')
    .epilogue(FLEET_EPILOGUE) as unknown as Argv<StatusArgs>;
}

export async function handler(args: StatusArgs): Promise<void> {
  const fleet = fleetFrom(args);
  const [{ status, contextFailure }, { statusText }, { render }, { reporting }, { fleetFailure }] = await Promise.all([
    import('../core/status.ts'),
    import('../output/status.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
    import('../core/fleet.ts'),
  ]);
  const options = { kube: kubeOptionsFrom(args, fleet ? undefined : args.context), ...(args.repo ? { repository: args.repo } : {}), store: await storeOptionsFrom(args) };
  const result = await reporting((reporter) => status(options, fleet ?? (args.context ? { context: args.context } : {}), reporter));
  render(args.format, result, statusText);
  // One context: its own error and exit code, as every single-context command; several: 9.
  const failed = fleet ? fleetFailure(result, 'status') : contextFailure(result);
  if (failed) throw failed;
  if (result.totals.differ > 0) process.exitCode = 1;
}
