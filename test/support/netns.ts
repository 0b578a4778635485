// A test host: a network namespace of its own, joined to this machine by one veth link. A server
// started in it has an address that is not loopback (so clients send it through a proxy, as they
// would a remote one), while every packet stays inside this machine. Addresses come from
// 198.51.100.0/24 (TEST-NET-2, a documentation range no network routes). Needs iproute2's `ip`,
// as root or through sudo.
import { execFileSync } from 'node:child_process';

export interface TestHost {
  /** The namespace's name (`ip netns exec NAME …`). */
  name: string;
  /** The host's address, reachable from this machine over the veth link. */
  address: string;
  /** `command args` run inside the namespace. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  remove(): void;
}

const PREFIX = 'poci';
const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];

function ip(...args: string[]): string {
  const [command, ...rest] = [...sudo, 'ip', ...args];
  return execFileSync(command!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces of test processes that died before removing theirs (named after their pid). */
function removeStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = Number(/^poci(\d+)-\d+$/.exec(name)?.[1]);
    if (pid && !alive(pid)) ip('netns', 'del', name);
  }
}

let created = 0;

export function createTestHost(): TestHost {
  removeStale();
  const name = `${PREFIX}${process.pid}-${created++}`;
  const [outside, inside] = [`${PREFIX}${process.pid % 1e6}h${created}`, `${PREFIX}${process.pid % 1e6}n${created}`];
  ip('netns', 'add', name);
  // One /30 of the range per host, one no other interface of this machine holds (another test
  // process may have taken some): Linux would accept a second one and route by whichever came first.
  const used = ip('-4', '-o', 'addr', 'show');
  const block = Array.from({ length: 64 }, (_, i) => ((process.pid + i) % 64) * 4).find((b) => !used.includes(`198.51.100.${b + 1}/`));
  if (block === undefined) {
    ip('netns', 'del', name);
    throw new Error('cannot make a test host: every /30 of 198.51.100.0/24 is in use on this machine');
  }
  const [hostSide, nsSide] = [`198.51.100.${block + 1}`, `198.51.100.${block + 2}`];
  try {
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${hostSide}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsSide}/30`, 'dev', inside);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    const remove = (): void => {
      try {
        ip('netns', 'del', name);
      } catch {
        // already gone
      }
    };
    process.on('exit', remove);
    const wrap = (command: string, args: readonly string[]): { command: string; args: string[] } => {
      const [first, ...rest] = [...sudo, 'ip', 'netns', 'exec', name, command, ...args];
      return { command: first!, args: rest };
    };
    return { name, address: nsSide, wrap, remove };
  } catch (err) {
    for (const undo of [['link', 'del', outside], ['netns', 'del', name]]) {
      try {
        ip(...undo);
      } catch {
        // not made
      }
    }
    throw new Error(`cannot make a test host (network namespace ${name}): ${(err as Error).message}`);
  }
}
