import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKeyText, loadPublicKey, loadPublicKeyText, pem, signPayload, verifyPayload } from '../../../src/signing/keys.ts';
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

  it('says so when --key / --verify-key is given the private key or a missing file, in one line', async () => {
    const pair = await generateKeyPair('pw');
    expect(() => loadPublicKeyText(pair.privateKey, 'cosign.key')).toThrow('cosign.key is a private key: give the public key (cosign.pub, a "PUBLIC KEY" PEM block)');
    expect(() => loadPublicKeyText(pem('CERTIFICATE', Buffer.from('x')), 'c.pem')).toThrow('c.pem holds no public key (a "PUBLIC KEY" PEM block, as in cosign.pub)');
    const missing = join(tmpdir(), `policyoci-no-such-key-${process.pid}.pub`);
    await expect(loadPublicKey(missing)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `cannot read key ${missing}: no such file or directory` });
    await expect(loadPublicKey(tmpdir())).rejects.toMatchObject({ code: 'IO', message: `cannot read key ${tmpdir()}: it is a directory` });
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
