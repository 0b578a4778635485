// discover: the artifacts that refer to a manifest (policies, signatures…), as a tree: referrers
// (API or tag schema), and cosign's tag-based signatures/attestations/SBOMs next to each node.
import { openTarget, type StoreOptions } from '../content/open.ts';
import { resolveOptional } from '../content/resolve.ts';
import type { Target } from '../content/types.ts';
import { COSIGN_SBOM, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE } from '../oci/mediatypes.ts';
import type { ImageManifest } from '../oci/types.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { cosignTag } from '../referrers/tagschema.ts';
import { isBundleMediaType, summarizeSignatures, type SignatureSummary } from '../signing/bundles.ts';
import { COSIGN_SIG_ARTIFACT_TYPE } from '../signing/simplesigning.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

export interface DiscoverNode {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** How it was found: a referrer (API or tag-schema index), or cosign's `sha256-<hex>.<suffix>` tag. */
  via: 'referrers' | 'cosign-tag';
  tag?: string;
  /** Signature layers in a cosign `.sig` manifest. */
  signatures?: number;
  /** For signature manifests: each signature's format and, keyless, its certificate's identity and issuer (NOT verified). */
  signers?: SignatureSummary[];
  referrers: DiscoverNode[];
}

export interface DiscoverResult {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  /** How this store lists referrers. */
  referrersBy: 'api' | 'tag';
  referrers: DiscoverNode[];
  /** Only when the tree had to be cut short. */
  warnings?: string[];
}

export interface DiscoverOptions {
  reference: string;
  store: StoreOptions;
  referrersMode?: ReferrersMode;
  /** Only referrers of these artifact types (at the first level). */
  artifactTypes?: string[];
  /** Levels to follow, at least 1 (default 3: image → policies → their signatures). */
  depth?: number;
}

const COSIGN_SUFFIXES = [
  ['sig', COSIGN_SIMPLE_SIGNING],
  ['att', DSSE_ENVELOPE],
  ['sbom', COSIGN_SBOM],
] as const;
const MAX_NODES = 2000;

export async function discover(options: DiscoverOptions, reporter: Reporter = silentReporter): Promise<DiscoverResult> {
  const opened = await openTarget(options.reference, options.store, { push: false });
  const { target } = opened;
  const referrers = new ReferrersClient(target, options.referrersMode ? { mode: options.referrersMode } : {});
  const { warnings, warn } = collectWarnings(reporter);
  reporter.progress(`Listing what refers to ${opened.display}`);
  const root = await target.resolve(opened.reference);
  const depth = options.depth ?? 3;
  // --artifact-type filters the first level only (what is attached to the reference itself).
  const wanted = (artifactType: string, level: number) => level > 1 || !options.artifactTypes?.length || options.artifactTypes.includes(artifactType);
  const seen = new Set<string>([root.digest]);
  let cut = false;
  const walk = async (digest: string, level: number): Promise<DiscoverNode[]> => {
    if (level > depth) return [];
    if (seen.size > MAX_NODES) {
      if (!cut) warn(`more than ${MAX_NODES} referrers: the tree is cut short`);
      cut = true;
      return [];
    }
    const nodes: DiscoverNode[] = [];
    for (const r of await referrers.list({ digest }, level === 1 ? options.artifactTypes : undefined)) {
      if (seen.has(r.digest)) continue;
      seen.add(r.digest);
      const node: DiscoverNode = { digest: r.digest, mediaType: r.mediaType, size: r.size, via: 'referrers', referrers: [] };
      if (r.artifactType) node.artifactType = r.artifactType;
      if (r.annotations) node.annotations = r.annotations;
      if (r.artifactType === COSIGN_SIG_ARTIFACT_TYPE || isBundleMediaType(r.artifactType)) await addSigners(target, node, warn);
      node.referrers = await walk(r.digest, level + 1);
      nodes.push(node);
    }
    for (const [suffix, artifactType] of COSIGN_SUFFIXES) {
      if (!wanted(artifactType, level)) continue;
      const node = await cosignTagNode(target, digest, suffix, artifactType, seen);
      if (node && suffix === 'sig') await addSigners(target, node, warn);
      if (node) nodes.push(node);
    }
    return nodes;
  };
  const tree = await walk(root.digest, 1);
  return {
    reference: opened.display,
    digest: root.digest,
    mediaType: root.mediaType,
    size: root.size,
    referrersBy: (await referrers.usesApi()) ? 'api' : 'tag',
    referrers: tree,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** cosign's `sha256-<hex>.<suffix>` image next to `digest`, when there is one. */
async function cosignTagNode(target: Target, digest: string, suffix: 'sig' | 'att' | 'sbom', artifactType: string, seen: Set<string>): Promise<DiscoverNode | undefined> {
  const tag = cosignTag(digest, suffix);
  const desc = await resolveOptional(target, tag);
  if (!desc || seen.has(`${desc.digest}/${tag}`)) return undefined;
  seen.add(`${desc.digest}/${tag}`);
  const node: DiscoverNode = { digest: desc.digest, mediaType: desc.mediaType, size: desc.size, artifactType, via: 'cosign-tag', tag, referrers: [] };
  try {
    const manifest = JSON.parse((await target.fetch(desc)).toString('utf8')) as ImageManifest;
    if (Array.isArray(manifest.layers)) node.signatures = manifest.layers.length;
  } catch {
    /* listed without a count */
  }
  return node;
}

/** What the signatures of a signature manifest say of themselves (unverified); unreadable ones are a warning. */
async function addSigners(target: Target, node: DiscoverNode, warn: (message: string) => void): Promise<void> {
  try {
    const signers = await summarizeSignatures(target, { mediaType: node.mediaType, digest: node.digest, size: node.size });
    if (signers.length > 0) node.signers = signers;
  } catch (err) {
    warn(`${node.digest}: its signatures cannot be read: ${(err as Error).message}`);
  }
}
