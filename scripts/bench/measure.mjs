// Measuring one process: wall time (around spawn → exit), user+system CPU and peak RSS (from GNU
// time's %U %S %M), plus request counters read from the servers' own books: the registry's
// "response completed" log lines and the API server's apiserver_request_total metric.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const GNU_TIME = '/usr/bin/time';
let seq = 0;

/**
 * Runs `cmd args` to completion under GNU time. Resolves { ms, cpuMs, rssKb, code, stdout, stderr }.
 * `stdoutFile`: send stdout there instead (kubectl get -o yaml > file). Throws on a non-zero exit
 * unless `allowFailure`.
 */
export async function measure(cmd, args, { cwd, env, stdoutFile, allowFailure = false, tmp } = {}) {
  const timeFile = join(tmp, `time-${process.pid}-${seq++}.txt`);
  const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe';
  const load1 = loadavg()[0];
  const started = performance.now();
  let child;
  try {
    child = spawn(GNU_TIME, ['-f', '%U %S %M', '-o', timeFile, cmd, ...args], { cwd, env: env ?? process.env, stdio: ['ignore', out, 'pipe'] });
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
  const stdout = [];
  const stderr = [];
  let outBytes = 0;
  let errBytes = 0;
  // Keep at most 16 MiB of stdout (JSON results of a thousand objects) and 64 KiB of stderr.
  child.stdout?.on('data', (c) => {
    if (outBytes < 1 << 24) stdout.push(c);
    outBytes += c.length;
  });
  child.stderr.on('data', (c) => {
    if (errBytes < 1 << 16) stderr.push(c);
    errBytes += c.length;
  });
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  const ms = performance.now() - started;
  let cpuMs = Number.NaN;
  let rssKb = Number.NaN;
  try {
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [user, sys, rss] = last.split(/\s+/).map(Number);
    cpuMs = (user + sys) * 1000;
    rssKb = rss;
  } catch {
    // time itself failed: the code tells
  }
  rmSync(timeFile, { force: true });
  const result = { ms, cpuMs, rssKb, code, load1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
  if (code !== 0 && !allowFailure) {
    throw new Error(`${cmd} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} exited ${code}\n${result.stderr.slice(-3000)}${result.stdout.slice(-1000)}`);
  }
  return result;
}

/** Counts the registry's "response completed" log lines written since `mark()`, by method. */
export class RegistryRequestCounter {
  constructor(logFile) {
    this.logFile = logFile;
  }

  mark() {
    return statSync(this.logFile).size;
  }

  /** Waits until the log stops growing (the registry logs after it has answered), then counts. */
  async since(offset) {
    let size = statSync(this.logFile).size;
    for (let i = 0; i < 20; i++) {
      await sleep(60);
      const now = statSync(this.logFile).size;
      if (now === size) break;
      size = now;
    }
    const fd = openSync(this.logFile, 'r');
    let text;
    try {
      const buf = Buffer.alloc(size - offset);
      let read = 0;
      while (read < buf.length) {
        const bytesRead = readSync(fd, buf, read, buf.length - read, offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      text = buf.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const byMethod = {};
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.includes('msg="response completed')) continue;
      total++;
      const m = /http\.request\.method=(\w+)/.exec(line);
      const method = m ? m[1] : '?';
      byMethod[method] = (byMethod[method] ?? 0) + 1;
    }
    return { total, byMethod };
  }
}

/** API server requests from apiserver_request_total (WATCH and the scrapes themselves excluded). */
export class ApiRequestCounter {
  constructor(scrape) {
    this.scrape = scrape; // () => Promise<string> (the /metrics text)
  }

  async read() {
    const text = await this.scrape();
    const byVerb = {};
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      if (line.includes('subresource="/metrics"') || line.includes('verb="WATCH"')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      const verb = /verb="(\w+)"/.exec(line)?.[1] ?? '?';
      byVerb[verb] = (byVerb[verb] ?? 0) + value;
      total += value;
    }
    return { total, byVerb };
  }

  async mark() {
    return this.read();
  }

  async since(before) {
    const after = await this.read();
    const byVerb = {};
    for (const [verb, n] of Object.entries(after.byVerb)) {
      const d = n - (before.byVerb[verb] ?? 0);
      if (d > 0) byVerb[verb] = d;
    }
    return { total: after.total - before.total, byMethod: byVerb };
  }
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
