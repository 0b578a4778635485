// Every media type and annotation key the tool writes or recognises, in one place.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** Accept header for manifest requests: everything we can read. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
export const ANNOTATION_SOURCE = 'org.opencontainers.image.source';
export const ANNOTATION_REVISION = 'org.opencontainers.image.revision';
export const ANNOTATION_VERSION = 'org.opencontainers.image.version';
export const ANNOTATION_DESCRIPTION = 'org.opencontainers.image.description';

/** Names the engine of each entry of the index written when one artifact holds several engines. */
export const ANNOTATION_ENGINE = 'io.policyoci.engine';

/** Layer types of generic tools whose files we read as policy YAML/JSON. */
export const GENERIC_FILE_LAYERS = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'application/json',
  'application/vnd.oci.image.layer.v1.tar', // oras' default type for a plain file (the bytes are not a tar)
];

/** Layer types of generic tools that hold a tar+gzip of files. */
export const GENERIC_TARGZ_LAYERS = [
  'application/vnd.oci.image.layer.v1.tar+gzip', // oras directories
  'application/vnd.cncf.flux.content.v1.tar+gzip',
  'application/vnd.kyverno.bundle.content.v1.tar+gzip',
  'application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip',
];

/** The image config type (cosign's signature images carry one). */
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';

// cosign's formats.
export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIG_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const COSIGN_SBOM = 'application/vnd.dev.cosign.sbom';

/** Config type of the proposed Kyverno bundle format (read, and listed among policy artifact types). */
export const KYVERNO_BUNDLE_CONFIG = 'application/vnd.cncf.kyverno.bundle.config.v1+json';
