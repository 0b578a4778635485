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
