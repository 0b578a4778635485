// Test PKI made with the openssl CLI: a CA, server certificates, client certificates and the
// self-signed certificate a token issuer signs with. EC P-256 keys (fast to make, accepted by Go,
// Node and distribution's libtrust).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './process.ts';

export interface CertPair {
  /** PEM certificate */
  certFile: string;
  /** PEM private key (PKCS#8), mode 0600 */
  keyFile: string;
}

export interface TestCa extends CertPair {
  dir: string;
}

const DAYS = '7';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function serial(): string {
  return `0x${randomBytes(8).toString('hex')}`;
}

async function selfSigned(dir: string, name: string, subject: string, extensions: readonly string[]): Promise<CertPair> {
  await mkdir(dir, { recursive: true });
  const pair = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  const addext = extensions.flatMap((ext) => ['-addext', ext]);
  await runCommand('openssl', [
    'req', '-x509', ...EC_KEY, '-keyout', pair.keyFile, '-out', pair.certFile,
    '-days', DAYS, '-set_serial', serial(), '-subj', subject, ...addext,
  ]);
  await chmod(pair.keyFile, 0o600);
  return pair;
}

/** A new CA (cert + key) in `dir`. */
export async function createTestCa(dir: string, commonName = 'kubectl-policyoci test CA'): Promise<TestCa> {
  const pair = await selfSigned(dir, 'ca', `/CN=${commonName}`, [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    'subjectKeyIdentifier=hash',
  ]);
  return { ...pair, dir };
}

async function issue(ca: TestCa, dir: string, name: string, subject: string, extensions: readonly string[]): Promise<CertPair> {
  await mkdir(dir, { recursive: true });
  const pair = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await runCommand('openssl', ['req', '-new', ...EC_KEY, '-keyout', pair.keyFile, '-out', csr, '-subj', subject]);
  await chmod(pair.keyFile, 0o600);
  await writeFile(extFile, `${extensions.join('\n')}\n`);
  await runCommand('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial(),
    '-days', DAYS, '-sha256', '-extfile', extFile, '-out', pair.certFile,
  ]);
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
  return pair;
}

/** A server certificate signed by `ca`, with SANs for `hosts` (DNS names or IP addresses). */
export function createServerCert(
  ca: TestCa,
  dir: string,
  options: { hosts?: readonly string[]; name?: string } = {},
): Promise<CertPair> {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const first = hosts[0] ?? 'localhost';
  const san = hosts.map((host) => (/^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
  return issue(ca, dir, options.name ?? 'server', `/CN=${first}`, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
  ]);
}

/** A client certificate (for mutual TLS) signed by `ca`. */
export function createClientCert(
  ca: TestCa,
  dir: string,
  options: { commonName?: string; name?: string } = {},
): Promise<CertPair> {
  return issue(ca, dir, options.name ?? 'client', `/CN=${options.commonName ?? 'policyoci-test-client'}`, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
}

/** A self-signed certificate whose key signs tokens; the certificate is the registry's rootcertbundle. */
export function createSigningCert(dir: string, name = 'token-signing'): Promise<CertPair> {
  return selfSigned(dir, name, '/CN=kubectl-policyoci test token issuer', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
  ]);
}
