// Runs the real kube-controller-manager (k8s.io/kubernetes, built by scripts/tools/build.sh) against
// a test API server from cluster.ts, with only the controllers a test names: the test clusters run
// no controller-manager otherwise. apply --wait needs `validatingadmissionpolicy-status-controller`,
// which type-checks every ValidatingAdmissionPolicy and writes status.typeChecking and
// status.observedGeneration: the API server itself does not.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningCluster } from './cluster.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile } from './process.ts';
import { toolPath } from './tools.ts';

const SYNC_TIMEOUT_MS = 60_000;

export interface RunningControllerManager {
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts it with the admin kubeconfig, no leader election and no serving port (nothing listens),
 * and waits until its informers have synced (its log says so), so its first report is seconds away.
 */
export async function startControllerManager(cluster: RunningCluster, controllers: readonly string[]): Promise<RunningControllerManager> {
  const dir = mkdtempSync(join(tmpdir(), `policyoci-kcm-${cluster.name}-`));
  removeOnExit(dir);
  const logFile = join(dir, 'kube-controller-manager.log');
  const args = [`--kubeconfig=${cluster.kubeconfigs.admin}`, `--controllers=${controllers.join(',')}`, '--leader-elect=false', '--secure-port=0', '-v=1'];
  const proc = await startManagedProcess(toolPath('kube-controller-manager'), args, { logFile, cwd: dir, cleanupDir: dir });
  const started = Date.now();
  const synced = () => {
    try {
      return readFileSync(logFile, 'utf8').includes('Caches are synced');
    } catch {
      return false;
    }
  };
  while (!synced()) {
    if (!proc.isRunning() || Date.now() - started > SYNC_TIMEOUT_MS) {
      await proc.stop();
      const tail = tailFile(logFile, 20);
      removeNow(dir);
      throw new Error(`kube-controller-manager did not sync within ${SYNC_TIMEOUT_MS / 1000}s:\n${tail}`);
    }
    await sleep(100);
  }
  let stopping: Promise<void> | undefined;
  return {
    logFile,
    stop() {
      stopping ??= proc.stop().then(() => removeNow(dir));
      return stopping;
    },
  };
}
