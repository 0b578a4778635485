// migrate: export the policies of one context and apply them to another — in memory, or through a
// registry or OCI layout (--via: pushed, then what is read back, digest-verified, is applied, so
// the artifact is a faithful record of what was migrated). A dry run pushes nothing; a client dry
// run contacts the target cluster not at all (the source cluster is read either way). --atomic:
// the target checks the whole set in a server dry run first, as apply --atomic (core/apply.ts).
import { publish } from '../artifact/publish.ts';
import { readArtifact } from '../artifact/unpack.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import { KubeClient } from '../kube/client.ts';
import type { SkippedKind } from '../kube/export.ts';
import { TOOL_NAME, VERSION } from '../version.ts';
import { applySetAndWait, type ApplyObjectsOptions, type ApplySummary, type KubeOptions } from './apply.ts';
import { packLive, readCluster, type ExportForm, type ExportSelection } from './export.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

export interface MigrateOptions extends Omit<ApplyObjectsOptions, 'pruneRepository'> {
  /** The context exported from (every namespace). */
  from: KubeOptions;
  /** The context applied to. */
  to: KubeOptions;
  selection: Omit<ExportSelection, 'namespace'>;
  /** The version and form the policies are exported in, hence applied in. */
  form?: ExportForm;
  /** Push here first and apply what is read back. */
  via?: { reference: string; store: StoreOptions; concurrency?: number };
  /**
   * Delete from the target what an earlier migrate (or apply) from the same source applied and the
   * source no longer holds. The source is the --via repository, else the source context.
   */
  prune: boolean;
  /**
   * All or nothing, as apply --atomic: a server dry run of the whole set in the target (prune
   * deletions included) first, and the apply only when no object would fail. With --via the
   * set is pushed (the record) before the check, as without.
   */
  atomic?: boolean;
  /** --wait: after the apply, wait until each engine of --to-context reports its policies in force. */
  wait?: { timeoutMs: number };
}

export interface MigrateVia {
  reference: string;
  digest: string;
  /** False in a dry run: `digest` is what would have been pushed. */
  pushed: boolean;
  /** The reference already held this digest (only when pushed). */
  unchanged?: boolean;
}

export interface MigrateSummary extends Omit<ApplySummary, 'artifacts' | 'verified'> {
  from: string;
  to: string;
  exported: number;
  skipped: SkippedKind[];
  via?: MigrateVia;
  /** What --prune records on the objects and deletes by. */
  pruneSource?: string;
}

/** The prune source of an in-memory migration: the source context, by name. */
export function contextSource(context: string): string {
  return `context:${context}`;
}

export async function migrate(options: MigrateOptions, reporter: Reporter = silentReporter): Promise<MigrateSummary> {
  const { warnings, warn } = collectWarnings(reporter);
  // Local checks first: the target's kubeconfig entry, the --via reference (opening contacts nothing).
  const to = KubeClient.fromKubeconfig(options.to);
  try {
    const opened = options.via ? await openTarget(options.via.reference, options.via.store, { push: true }) : undefined;
    const live = await readCluster(options.from, options.selection, reporter, options.form);
    for (const s of live.skipped) warn(`not exported from ${live.context}: ${s.kind}: ${s.reason}`);
    const packed = packLive(live, {});
    let objects = live.documents.map((d) => d.object);
    let via: MigrateVia | undefined;
    if (opened && options.dryRun === 'none') {
      reporter.progress(`Pushing ${objects.length} policies to ${opened.display}`);
      const pushed = await publish(opened.target, packed, opened.tags, options.via?.concurrency ? { concurrency: options.via.concurrency } : {});
      objects = (await readArtifact(opened.target, pushed.digest)).policies.map((p) => p.object);
      via = { reference: opened.display, digest: pushed.digest, pushed: true, unchanged: pushed.unchanged };
    } else if (opened) {
      via = { reference: opened.display, digest: packed.root.descriptor.digest, pushed: false };
    }
    const pruneSource = options.prune ? (opened?.repository ?? contextSource(live.context)) : undefined;
    const applied = await applySetAndWait(
      to,
      objects,
      {
        ...(options.namespace ? { namespace: options.namespace } : {}),
        createNamespace: options.createNamespace,
        dryRun: options.dryRun,
        forceConflicts: options.forceConflicts,
        ...(pruneSource ? { pruneRepository: pruneSource, pruneScope: { ...(options.selection.engines ? { engines: options.selection.engines } : {}), ...(options.selection.kinds ? { kinds: options.selection.kinds } : {}) } } : {}),
        // Where the objects came from, as apply records it: the --via artifact, else the source context.
        provenance: { repository: opened?.repository ?? contextSource(live.context), ...(via?.pushed ? { digest: via.digest } : {}), ...(opened?.tags[0] ? { tag: opened.tags[0] } : {}), tool: `${TOOL_NAME}/${VERSION}`, at: new Date() },
      },
      options.atomic ?? false,
      options.wait,
      reporter,
      warn,
    );
    return {
      from: live.context,
      to: to.contextName,
      exported: live.documents.length,
      skipped: live.skipped,
      ...(via ? { via } : {}),
      reference: via?.reference ?? '(in memory)',
      digest: via?.digest ?? packed.root.descriptor.digest,
      ...applied,
      ...(pruneSource ? { pruneSource } : {}),
      warnings,
    };
  } finally {
    await to.close();
  }
}
