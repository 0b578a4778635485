// Message helpers with no imports (the command modules load them at start-up).
/** `repo:tag@digest` for messages, without doubling a digest the reference already names. */
export function atDigest(display: string, digest: string): string {
  const at = display.lastIndexOf('@');
  return `${at > 0 && /^sha(256|512):/.test(display.slice(at + 1)) ? display.slice(0, at) : display}@${digest}`;
}
