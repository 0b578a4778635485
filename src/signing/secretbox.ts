// NaCl secretbox (XSalsa20-Poly1305), which cosign uses to encrypt private keys. node:crypto has
// no XSalsa20, so this wraps @noble/ciphers (audited, maintained) in the two calls we need.
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== 32) throw new Error('secretbox: the key must be 32 bytes');
  if (nonce.length !== 24) throw new Error('secretbox: the nonce must be 24 bytes');
}

/** secretbox.Seal: 16-byte Poly1305 tag, then the XSalsa20-encrypted message. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  checkSizes(key, nonce);
  return xsalsa20poly1305(key, nonce).encrypt(message);
}

/** secretbox.Open: the message, or undefined when the box was not sealed with this key and nonce. */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  checkSizes(key, nonce);
  if (box.length < 16) return undefined;
  try {
    return xsalsa20poly1305(key, nonce).decrypt(box);
  } catch {
    return undefined;
  }
}
