// Signing keys in the forms cosign reads and writes:
//  - private: "ENCRYPTED SIGSTORE PRIVATE KEY" / "ENCRYPTED COSIGN PRIVATE KEY" (cosign
//    generate-key-pair: PKCS#8 sealed with scrypt + nacl/secretbox, go-securesystemslib's
//    `encrypted` format), or plain PEM "EC PRIVATE KEY" (SEC1) / "PRIVATE KEY" (PKCS#8);
//  - public: PEM "PUBLIC KEY" (SPKI), what `cosign generate-key-pair` writes as cosign.pub.
// Signatures are ECDSA over SHA-256 in ASN.1 DER (cosign's default for ECDSA keys); RSA keys sign
// PKCS#1 v1.5 with SHA-256 and Ed25519 keys sign the message itself, as sigstore's signers do.
import { createPrivateKey, createPublicKey, randomBytes, scrypt as scryptCb, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PolicyOciError } from '../errors.ts';
import { secretboxOpen, secretboxSeal } from './secretbox.ts';

const scrypt = promisify(scryptCb) as (password: Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export const SIGSTORE_ENCRYPTED = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_ENCRYPTED = 'ENCRYPTED COSIGN PRIVATE KEY';

/** The scrypt parameter sets go-securesystemslib accepts (legacy, standard, OWASP); no others. */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];

export interface PemBlock {
  type: string;
  der: Buffer;
}

export function parsePem(text: string, what: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2]!.split(/\r?\n/).filter((l) => l !== '' && !l.includes(':')).join('');
    blocks.push({ type: m[1]!, der: Buffer.from(body, 'base64') });
  }
  if (blocks.length === 0) throw new PolicyOciError('INVALID_INPUT', `${what} holds no PEM block`);
  return blocks;
}

export function pem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

interface EncryptedData {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

/** Opens cosign's encrypted private key (the PEM block's bytes are JSON). `passwordFrom` names where the password came from, for the message. */
export async function decryptCosignKey(der: Buffer, password: string, what: string, passwordFrom?: 'env' | 'unset'): Promise<Buffer> {
  let data: EncryptedData;
  try {
    data = JSON.parse(der.toString('utf8')) as EncryptedData;
  } catch {
    throw new PolicyOciError('INVALID_INPUT', `${what}: the encrypted key is not the JSON cosign writes`);
  }
  if (data?.kdf?.name !== 'scrypt' || data?.cipher?.name !== 'nacl/secretbox') {
    throw new PolicyOciError('INVALID_INPUT', `${what}: unsupported key encryption ${String(data?.kdf?.name)}/${String(data?.cipher?.name)} (expected scrypt/nacl/secretbox)`);
  }
  const { N, r, p } = data.kdf.params ?? {};
  if (!SCRYPT_PARAMS.some((s) => s.N === N && s.r === r && s.p === p)) throw new PolicyOciError('INVALID_INPUT', `${what}: unsupported scrypt parameters N=${N} r=${r} p=${p}`);
  const salt = Buffer.from(data.kdf.salt, 'base64');
  const nonce = Buffer.from(data.cipher.nonce, 'base64');
  if (nonce.length !== 24) throw new PolicyOciError('INVALID_INPUT', `${what}: the nonce is ${nonce.length} bytes, not 24`);
  const key = await scrypt(Buffer.from(password, 'utf8'), salt, 32, { N: N!, r: r!, p: p!, maxmem: 256 * N! * r! });
  const opened = secretboxOpen(Buffer.from(data.ciphertext, 'base64'), nonce, key);
  if (!opened) {
    if (passwordFrom === 'unset') {
      throw new PolicyOciError('UNAUTHORIZED', `${what} is encrypted and COSIGN_PASSWORD is not set: set it to the key's password (the empty password did not open it)`);
    }
    const which = passwordFrom === 'env' ? 'the password in COSIGN_PASSWORD' : 'the password';
    throw new PolicyOciError('UNAUTHORIZED', `${what}: ${which} does not open the key (a wrong password, or a damaged key)`);
  }
  return Buffer.from(opened);
}

/** Seals a PKCS#8 key the way `cosign generate-key-pair` does (standard scrypt parameters). */
export async function encryptCosignKey(pkcs8: Buffer, password: string): Promise<Buffer> {
  const params = SCRYPT_PARAMS[1]!;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = await scrypt(Buffer.from(password, 'utf8'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
  const data: EncryptedData = {
    kdf: { name: 'scrypt', params, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(secretboxSeal(pkcs8, nonce, key)).toString('base64'),
  };
  return Buffer.from(JSON.stringify(data), 'utf8');
}

export interface LoadKeyOptions {
  /** Password of an encrypted key; default: $COSIGN_PASSWORD, else the empty password. */
  password?: string;
}

function keyError(what: string, err: unknown): PolicyOciError {
  return new PolicyOciError('INVALID_INPUT', `${what}: not a usable key (${(err as Error).message})`);
}

export async function loadPrivateKeyText(text: string, what: string, options: LoadKeyOptions = {}): Promise<KeyObject> {
  const block = parsePem(text, what).find((b) => /PRIVATE KEY$/.test(b.type));
  if (!block) throw new PolicyOciError('INVALID_INPUT', `${what} holds no private key (expected cosign.key or a PEM EC/PKCS#8 private key)`);
  try {
    switch (block.type) {
      case SIGSTORE_ENCRYPTED:
      case COSIGN_ENCRYPTED: {
        // Like cosign, an unset COSIGN_PASSWORD is tried as the empty password first.
        const env = process.env.COSIGN_PASSWORD;
        const password = options.password ?? env ?? '';
        const from = options.password !== undefined ? undefined : env !== undefined ? 'env' : 'unset';
        const pkcs8 = await decryptCosignKey(block.der, password, what, from);
        return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      }
      case 'EC PRIVATE KEY':
        return createPrivateKey({ key: block.der, format: 'der', type: 'sec1' });
      case 'PRIVATE KEY':
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
      case 'RSA PRIVATE KEY':
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' });
      default:
        throw new PolicyOciError('INVALID_INPUT', `${what}: unsupported PEM type "${block.type}"`);
    }
  } catch (err) {
    if (err instanceof PolicyOciError) throw err;
    throw keyError(what, err);
  }
}

export async function loadPrivateKey(path: string, options: LoadKeyOptions = {}): Promise<KeyObject> {
  return loadPrivateKeyText(await readKeyFile(path), path, options);
}

export function loadPublicKeyText(text: string, what: string): KeyObject {
  const blocks = parsePem(text, what);
  const block = blocks.find((b) => b.type === 'PUBLIC KEY');
  if (!block) {
    const privateKey = blocks.some((b) => b.type.includes('PRIVATE KEY'));
    throw new PolicyOciError('INVALID_INPUT', privateKey ? `${what} is a private key: give the public key (cosign.pub, a "PUBLIC KEY" PEM block)` : `${what} holds no public key (a "PUBLIC KEY" PEM block, as in cosign.pub)`);
  }
  try {
    return createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch (err) {
    throw keyError(what, err);
  }
}

export async function loadPublicKey(path: string): Promise<KeyObject> {
  return loadPublicKeyText(await readKeyFile(path), path);
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Not Node's "ENOENT: no such file or directory, open 'x'", which repeats the path.
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new PolicyOciError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read key ${path}: ${why}`);
  }
}

function digestFor(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

export function signPayload(key: KeyObject, payload: Buffer): Buffer {
  if (!['ec', 'rsa', 'ed25519'].includes(key.asymmetricKeyType ?? '')) throw new PolicyOciError('INVALID_INPUT', `unsupported key type ${key.asymmetricKeyType}`);
  return cryptoSign(digestFor(key), payload, key);
}

export function verifyPayload(key: KeyObject, payload: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(digestFor(key), payload, key, signature);
  } catch {
    return false;
  }
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** A cosign-compatible key pair: the encrypted private key and the public key, as PEM text. */
export async function generateKeyPair(password: string): Promise<{ privateKey: string; publicKey: string; key: KeyObject }> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { privateKey: pem(SIGSTORE_ENCRYPTED, await encryptCosignKey(pkcs8, password)), publicKey: publicKeyPem(publicKey), key: privateKey };
}
