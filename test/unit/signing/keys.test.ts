import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKeyText, loadPublicKeyText, pem, signPayload, verifyPayload } from '../../../src/signing/keys.ts';
import { buildPayload, parsePayload } from '../../../src/signing/simplesigning.ts';

describe('signing keys', () => {
  it('reads plain PEM P-256 keys (SEC1 and PKCS#8) and verifies with the SPKI public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = loadPublicKeyText(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'pub');
    for (const type of ['sec1', 'pkcs8'] as const) {
      const key = await loadPrivateKeyText(privateKey.export({ format: 'pem', type }).toString(), type);
      const sig = signPayload(key, Buffer.from('hello'));
      expect(verifyPayload(pub, Buffer.from('hello'), sig)).toBe(true);
      expect(verifyPayload(pub, Buffer.from('hellO'), sig)).toBe(false);
    }
  });

  it('encrypts like cosign and decrypts with the right password only', async () => {
    const pair = await generateKeyPair('s3cret');
    expect(pair.privateKey).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const key = await loadPrivateKeyText(pair.privateKey, 'cosign.key', { password: 's3cret' });
    expect(verifyPayload(loadPublicKeyText(pair.publicKey, 'cosign.pub'), Buffer.from('x'), signPayload(key, Buffer.from('x')))).toBe(true);
    await expect(loadPrivateKeyText(pair.privateKey, 'cosign.key', { password: 'wrong' })).rejects.toThrow(/wrong password/);
    // The older block name cosign still reads.
    const legacy = pair.privateKey.replaceAll('SIGSTORE', 'COSIGN');
    await expect(loadPrivateKeyText(legacy, 'legacy.key', { password: 's3cret' })).resolves.toBeDefined();
  });

  it('refuses files that hold no key', async () => {
    await expect(loadPrivateKeyText('nothing here', 'x')).rejects.toThrow(/no PEM block/);
    expect(() => loadPublicKeyText(pem('PUBLIC KEY', Buffer.from('junk')), 'y')).toThrow(/not a usable key/);
  });

  it('writes the simple-signing payload byte for byte as sigstore marshals it', () => {
    const p = buildPayload('127.0.0.1:5000/app', `sha256:${'a'.repeat(64)}`);
    expect(p.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"sha256:${'a'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(parsePayload(p).critical.image['docker-manifest-digest']).toBe(`sha256:${'a'.repeat(64)}`);
    expect(() => parsePayload(Buffer.from('{"critical":{"type":"x"}}'))).toThrow(/not "cosign container image signature"/);
  });
});
