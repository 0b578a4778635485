import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretboxOpen, secretboxSeal } from '../../../src/signing/secretbox.ts';

describe('nacl secretbox (XSalsa20-Poly1305)', () => {
  it('matches the NaCl C implementation (golang.org/x/crypto TestSecretBox vector)', () => {
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(24).fill(2);
    const message = new Uint8Array(64).fill(3);
    const expected =
      '8442bc313f4626f1359e3b50122b6ce6fe66ddfe7d39d14e637eb4fd5b45beadab55198df6ab5368439792a23c87db70acb6156dc5ef957ac04f6276cf6093b84be77ff0849cc33e34b7254d5a8f65ad';
    expect(Buffer.from(secretboxSeal(message, nonce, key)).toString('hex')).toBe(expected);
    expect(Buffer.from(secretboxOpen(Buffer.from(expected, 'hex'), nonce, key)!)).toEqual(Buffer.from(message));
  });

  it('round-trips every length across block boundaries and refuses any flipped byte', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    for (const len of [0, 1, 15, 16, 17, 63, 64, 65, 130, 200]) {
      const msg = randomBytes(len);
      const box = secretboxSeal(msg, nonce, key);
      expect(box.length).toBe(len + 16);
      expect(Buffer.from(secretboxOpen(box, nonce, key)!)).toEqual(msg);
    }
    const box = Buffer.from(secretboxSeal(randomBytes(40), nonce, key));
    for (let i = 0; i < box.length; i++) {
      box[i]! ^= 0x20;
      expect(secretboxOpen(box, nonce, key), `byte ${i}`).toBeUndefined();
      box[i]! ^= 0x20;
    }
    expect(secretboxOpen(box, nonce, randomBytes(32))).toBeUndefined();
  });
});
