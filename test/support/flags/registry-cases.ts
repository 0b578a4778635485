// The registry flags (TLS, credentials, timeouts, parallelism, OCI layouts), proven for every
// command that offers them: one generator per flag turns a command's op (registry-ops.ts) into a case.
import { expect } from 'vitest';
import type { FlagCase, FlagContext } from './context.ts';
import { expectExit, plus, type Invocation } from './kit.ts';
import { inFlightProxy, only, slowFirstProxy, via, without, type RegistryAccess } from './registries.ts';
import { okOf, REGISTRY_OPS, type RegistryFlag, type RegistryOp } from './registry-ops.ts';
import { sharedRun } from './output-cases.ts';

/** The port of "host:port". */
function portOf(host: string): string {
  return host.slice(host.lastIndexOf(':') + 1);
}

const REQUEST_DELAY_MS = 3500;
const REQUEST_TIMEOUT = '1200ms';

/** Without the access flag `flag` (and its value) vs with it, against the registry that needs it. */
function accessCase(op: RegistryOp, flag: RegistryFlag, pick: (ctx: FlagContext) => RegistryAccess, failing: readonly number[], how: string): FlagCase {
  const takesValue = flag !== 'insecure' && flag !== 'password-stdin';
  return {
    command: op.command,
    flag,
    cluster: op.cluster ?? false,
    how,
    async run(ctx) {
      const reg = pick(ctx);
      // --insecure replaces the CA; every other flag is one part of what reaches the registry.
      const flagArgs = flag === 'insecure' ? ['--insecure'] : only(reg.flags, `--${flag}`, takesValue);
      const rest = flag === 'insecure' ? without(reg.flags, '--ca-file', true) : without(reg.flags, `--${flag}`, takesValue);
      const base = async (): Promise<Invocation> => {
        const invocation = await op.against(ctx, reg);
        return { ...invocation, args: [...invocation.args, ...rest], ...(reg.input !== undefined ? { input: reg.input } : {}) };
      };
      // --insecure and --ca-file share their run without: the TLS registry, nothing to reach it.
      const bare = flag === 'insecure' || flag === 'ca-file' ? sharedRun(ctx, `${op.command} tls bare`, async () => ctx.kit.run(await base())) : ctx.kit.run(await base());
      expectExit(await bare, failing, `${op.command} against the ${reg.name} registry without --${flag}`);
      expectExit(await ctx.kit.run(plus(await base(), ...flagArgs)), okOf(op), `${op.command} against the ${reg.name} registry with --${flag}`);
    },
  };
}

function flagCase(op: RegistryOp, flag: RegistryFlag): FlagCase {
  const cluster = op.cluster ?? false;
  switch (flag) {
    case 'insecure':
      return accessCase(op, flag, (ctx) => ctx.tls, [8], 'TLS registry of a private CA: exit 8 without (loopback defaults to http); with --insecure https without verification works');
    case 'ca-file':
      return accessCase(op, flag, (ctx) => ctx.tls, [8], 'TLS registry of a private CA: exit 8 without; with --ca-file it works');
    case 'cert-file':
      return accessCase(op, flag, (ctx) => ctx.mtls, [2, 8], 'registry requiring a client certificate (--ca-file, --key-file given): refused without --cert-file, works with it');
    case 'key-file':
      return accessCase(op, flag, (ctx) => ctx.mtls, [2, 8], 'registry requiring a client certificate (--ca-file, --cert-file given): refused without --key-file, works with it');
    case 'username':
      return accessCase(op, flag, (ctx) => ctx.htpasswd, [2, 5], 'htpasswd registry, password on stdin with --password-stdin: refused without -u, works with it');
    case 'password-stdin':
      return accessCase(op, flag, (ctx) => ctx.htpasswd, [2, 5], 'htpasswd registry, -u given, password on stdin: refused without --password-stdin, works with it');
    case 'plain-http':
      return {
        command: op.command,
        flag,
        cluster,
        how: 'registry addressed as 0.0.0.0:PORT (not loopback: https by default): exit 8 without, works with; --plain-http=false forces https on loopback (exit 8)',
        async run(ctx) {
          const byAddress = via(ctx.open, `0.0.0.0:${portOf(ctx.open.host)}`);
          expectExit(await ctx.kit.run(await op.against(ctx, byAddress)), [8], `${op.command} ${byAddress.host} without --plain-http`);
          expectExit(await ctx.kit.run(plus(await op.against(ctx, byAddress), '--plain-http')), okOf(op), `${op.command} ${byAddress.host} with --plain-http`);
          expectExit(await ctx.kit.run(plus(await op.against(ctx, ctx.open), '--plain-http=false')), [8], `${op.command} ${ctx.open.host} with --plain-http=false (https forced against a plain-HTTP registry)`);
        },
      };
    case 'request-timeout':
      return {
        command: op.command,
        flag,
        cluster,
        how: `proxy holds the first request ${REQUEST_DELAY_MS} ms: without, it is answered and never resent; with --request-timeout ${REQUEST_TIMEOUT}, it is abandoned and resent before the hold ends`,
        async run(ctx) {
          const resentWhileHeld = async (extra: string[]): Promise<number> => {
            const proxy = await slowFirstProxy(ctx.open.origin, REQUEST_DELAY_MS);
            try {
              const result = await ctx.kit.run(plus(await op.against(ctx, via(ctx.open, proxy.host)), ...extra));
              expectExit(result, okOf(op), `${op.command} through the slow proxy ${extra.join(' ')}`);
              const first = proxy.log[0]!;
              return proxy.log.filter((e) => e.n > 1 && e.method === first.method && e.path === first.path && e.at < first.at + REQUEST_DELAY_MS).length;
            } finally {
              await proxy.stop();
            }
          };
          expect(await resentWhileHeld([]), 'without --request-timeout the held request is waited for').toBe(0);
          expect(await resentWhileHeld(['--request-timeout', REQUEST_TIMEOUT]), 'with --request-timeout the held request is abandoned and resent').toBeGreaterThan(0);
        },
      };
    case 'concurrency':
      return {
        command: op.command,
        flag,
        cluster,
        how: 'proxy holds each blob request 150 ms and counts them in flight: more than 1 at once by default, exactly 1 with --concurrency 1',
        async run(ctx) {
          const maxInFlight = async (extra: string[]): Promise<number> => {
            const { proxy, maxInFlight: max } = await inFlightProxy(ctx.open.origin);
            try {
              expectExit(await ctx.kit.run(plus(await op.against(ctx, via(ctx.open, proxy.host)), ...extra)), okOf(op), `${op.command} through the counting proxy ${extra.join(' ')}`);
              return max();
            } finally {
              await proxy.stop();
            }
          };
          expect(await maxInFlight([]), 'blob requests in flight at once by default').toBeGreaterThan(1);
          expect(await maxInFlight(['--concurrency', '1']), 'blob requests in flight at once with --concurrency 1').toBe(1);
        },
      };
    case 'oci-layout':
      return {
        command: op.command,
        flag,
        cluster,
        how: 'REF is DIR:tag: without, exit 2 (not a registry reference); with, the layout is read or written',
        async run(ctx) {
          if (!op.layout) throw new Error(`${op.command} has no layout run`);
          const plain = await op.layout(ctx);
          expectExit(await ctx.kit.run(plain.invocation), [2], `${op.command} DIR:tag without --oci-layout`);
          const layout = await op.layout(ctx);
          const result = await ctx.kit.run(plus(layout.invocation, '--oci-layout'));
          expectExit(result, okOf(op), `${op.command} DIR:tag with --oci-layout`);
          layout.check(result);
        },
      };
  }
}

export function registryCases(): FlagCase[] {
  return REGISTRY_OPS.flatMap((op) => op.flags.map((flag) => flagCase(op, flag)));
}
