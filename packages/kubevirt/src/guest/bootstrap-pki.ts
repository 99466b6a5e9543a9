import { createHash, randomInt, webcrypto } from 'node:crypto';
import { names, ValidationError } from '@cks-lab/core';
import type { IoK8sApiCoreV1Secret } from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { kubeObject } from '../manifests/kube-object';
import { sessionLabels } from '../manifests/labels';
import type { KubeObject } from '../object-api';
import { R } from '../resources';

/**
 * The kubeadm bootstrap material the platform makes before a bootstrap-strategy session
 * (docs/architecture.md#bootstrap-path): the cluster CA, so the worker can pin the CA hash up front instead of trusting
 * whatever answers (never `--discovery-token-unsafe-skip-ca-verification` on a security course),
 * and the bootstrap token the control plane is initialised with and the worker joins with.
 */
export interface BootstrapPki {
  caCertPem: string;
  /** PKCS#8 PEM; kubeadm reads it as /etc/kubernetes/pki/ca.key. */
  caKeyPem: string;
  /** kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
  token: string;
  /** `sha256:<hex>` of the CA certificate's DER SubjectPublicKeyInfo, as `--discovery-token-ca-cert-hash` wants. */
  caCertHash: string;
}

export const BOOTSTRAP_TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
export const CA_CERT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

const CA_VALIDITY_YEARS = 10;
/** Backdated like kubeadm's own certificates, so a guest clock a little behind still accepts the CA. */
const CLOCK_SKEW_MS = 5 * 60_000;
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/**
 * ECDSA P-256, which kubeadm supports for its whole PKI (ClusterConfiguration.encryptionAlgorithm):
 * an RSA-2048 key costs ~130 ms of CPU, which showed up as seconds of overhead when 50 sessions
 * start at once; P-256 takes well under a millisecond.
 */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** Makes a fresh CA and token (random: call once per session and keep it, see bootstrapPkiSecret). */
export async function generateBootstrapPki(now: Date = new Date()): Promise<BootstrapPki> {
  const crypto = webcrypto as unknown as Crypto;
  const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: 'CN=kubernetes',
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: KEY_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const caCertPem = cert.toString('pem');
  return {
    caCertPem: `${caCertPem.trim()}\n`,
    caKeyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').trim()}\n`,
    token: bootstrapToken(),
    caCertHash: caCertHashOf(caCertPem),
  };
}

/** `sha256:` + hex SHA-256 of the certificate's DER SubjectPublicKeyInfo (what kubeadm pins). */
export function caCertHashOf(caCertPem: string): string {
  const spki = new x509.X509Certificate(caCertPem).publicKey.rawData;
  return `sha256:${createHash('sha256').update(Buffer.from(spki)).digest('hex')}`;
}

/** A kubeadm bootstrap token: 6-character id, '.', 16-character secret, from [a-z0-9]. */
export function bootstrapToken(): string {
  const pick = (length: number) => Array.from({ length }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** 16 random bytes with the top bit clear: a positive serial, as RFC 5280 wants. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** Holds a bootstrap-strategy session's CA and token, so a resumed run reuses them instead of making new ones. */
export const BOOTSTRAP_PKI_SECRET = 'cks-lab-bootstrap';

const KEYS = { caCert: 'ca.crt', caKey: 'ca.key', token: 'token', caCertHash: 'ca-cert-hash' } as const;

export function bootstrapPkiSecret(sessionId: string, pki: BootstrapPki): KubeObject & IoK8sApiCoreV1Secret {
  const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
  return kubeObject<IoK8sApiCoreV1Secret>(
    R.secret,
    { name: BOOTSTRAP_PKI_SECRET, namespace: names.namespace(sessionId), labels: sessionLabels(sessionId) },
    {
      type: 'Opaque',
      data: {
        [KEYS.caCert]: base64(pki.caCertPem),
        [KEYS.caKey]: base64(pki.caKeyPem),
        [KEYS.token]: base64(pki.token),
        [KEYS.caCertHash]: base64(pki.caCertHash),
      },
    },
  );
}

/**
 * Reads the PKI back from the Secret as the API returns it (`data`, base64; `stringData` too, for
 * in-memory APIs that keep what was sent). Throws a ValidationError when it is incomplete or
 * inconsistent — the hash is recomputed from the certificate, so a worker never pins a wrong CA.
 */
export function bootstrapPkiFromSecret(object: KubeObject): BootstrapPki {
  const where = `Secret ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  const data = (object.data ?? {}) as Record<string, string>;
  const stringData = (object.stringData ?? {}) as Record<string, string>;
  const read = (key: string): string => {
    const encoded = data[key];
    const value = encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : stringData[key];
    if (!value) throw new ValidationError(`${where} has no "${key}"`);
    return value;
  };
  const pki: BootstrapPki = {
    caCertPem: read(KEYS.caCert),
    caKeyPem: read(KEYS.caKey),
    token: read(KEYS.token),
    caCertHash: read(KEYS.caCertHash),
  };
  if (!BOOTSTRAP_TOKEN_PATTERN.test(pki.token)) throw new ValidationError(`${where} holds a malformed bootstrap token`);
  let hash: string;
  try {
    hash = caCertHashOf(pki.caCertPem);
  } catch (error) {
    throw new ValidationError(`${where} holds an unreadable CA certificate`, { cause: error });
  }
  if (hash !== pki.caCertHash) throw new ValidationError(`${where}: the CA hash does not match the CA certificate`);
  return pki;
}
