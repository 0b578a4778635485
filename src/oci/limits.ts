// Size bounds shared by every reader of OCI content.

/** Largest manifest or index read (the distribution spec asks registries to accept at least 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
