import type { Argv } from 'yargs';
import { withLimitFlags, limitsFrom, type LimitFlags } from './limits.ts';
import { storeOptionsFrom, withConcurrencyFlag, withRegistryFlags, type ConcurrencyFlag, type RegistryFlags } from './options.ts';

interface InspectArgs extends RegistryFlags, ConcurrencyFlag, LimitFlags {
  ref: string;
}

export const command = 'inspect <ref>';
export const describe = 'Show the engines, policies, layers and annotations of an artifact';

export function builder(y: Argv): Argv<InspectArgs> {
  return withLimitFlags(withConcurrencyFlag(withRegistryFlags(y)))
    .positional('ref', { type: 'string', demandOption: true })
    .example('$0 inspect localhost:5000/policies:v1', 'List what the artifact holds')
    .example('$0 inspect localhost:5000/policies:v1 --format json | jq .policies', 'The same, for scripts') as unknown as Argv<InspectArgs>;
}

export async function handler(args: InspectArgs): Promise<void> {
  const [{ inspect }, { render }, { inspectText }, { reporting }] = await Promise.all([
    import('../core/inspect.ts'),
    import('../output/render.ts'),
    import('../output/inspect.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = { reference: args.ref, store: await storeOptionsFrom(args), limits: limitsFrom(args), ...(args.concurrency ? { concurrency: args.concurrency } : {}) };
  const result = await reporting((reporter) => inspect(options, reporter));
  render(args.format, result, inspectText);
}
