import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../object-api';
import {
  BOOTSTRAP_PKI_SECRET,
  BOOTSTRAP_TOKEN_PATTERN,
  type BootstrapPki,
  bootstrapPkiFromSecret,
  bootstrapPkiSecret,
  bootstrapToken,
  CA_CERT_HASH_PATTERN,
  generateBootstrapPki,
} from './bootstrap-pki';
import { toolAvailable, withTempDir } from './tools-for-tests';

let pki: BootstrapPki;
beforeAll(async () => {
  pki = await generateBootstrapPki(new Date('2026-01-15T12:00:00Z'));
});

describe('generateBootstrapPki', () => {
  it('makes a kubeadm-format token and a sha256 CA hash', () => {
    expect(pki.token).toMatch(BOOTSTRAP_TOKEN_PATTERN);
    expect(pki.caCertHash).toMatch(CA_CERT_HASH_PATTERN);
    expect(pki.caCertPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expect(pki.caKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  });

  it('makes a different CA and token every time', async () => {
    const other = await generateBootstrapPki();
    expect(other.caCertHash).not.toBe(pki.caCertHash);
    expect(other.token).not.toBe(pki.token);
    expect(new Set(Array.from({ length: 50 }, bootstrapToken)).size).toBe(50);
  });

  describe.runIf(toolAvailable('openssl'))('checked with openssl', () => {
    const inTemp = <T>(use: (dir: string) => T) => withTempDir({ 'ca.crt': pki.caCertPem, 'ca.key': pki.caKeyPem }, use);
    const sh = (script: string, dir: string) => execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });

    it('has the CA hash kubeadm computes (sha256 of the DER SubjectPublicKeyInfo)', () => {
      const digest = inTemp((dir) => sh('openssl x509 -in ca.crt -pubkey -noout | openssl pkey -pubin -outform der | sha256sum', dir));
      expect(`sha256:${digest.split(' ')[0]}`).toBe(pki.caCertHash);
    });

    it('is a self-signed CA named kubernetes that may sign certificates, valid 10 years', () => {
      const text = inTemp((dir) => sh('openssl x509 -in ca.crt -noout -text', dir));
      expect(text).toMatch(/Subject: CN\s?=\s?kubernetes/);
      expect(text).toMatch(/Issuer: CN\s?=\s?kubernetes/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign/);
      expect(text).toMatch(/Public-Key: \(256 bit\)/);
      expect(text).toMatch(/ASN1 OID: prime256v1/);
      expect(text).toMatch(/Not Before: Jan 15 11:55:00 2026 GMT/);
      expect(text).toMatch(/Not After : Jan 15 12:00:00 2036 GMT/);
      expect(inTemp((dir) => sh('openssl verify -CAfile ca.crt ca.crt', dir))).toMatch(/ca.crt: OK/);
    });

    it('has the private key of that certificate', () => {
      const [fromCert, fromKey] = inTemp((dir) => [
        sh('openssl x509 -in ca.crt -pubkey -noout', dir),
        sh(`openssl pkey -in ${join(dir, 'ca.key')} -pubout`, dir),
      ]);
      expect(fromKey).toBe(fromCert);
    });
  });
});

describe('bootstrap PKI Secret', () => {
  it('keeps the PKI in the session namespace and gives it back', () => {
    const secret = bootstrapPkiSecret('76c3ac1b', pki);
    expect(secret.metadata).toEqual({
      name: BOOTSTRAP_PKI_SECRET,
      namespace: 'user-session-76c3ac1b',
      labels: { 'app.kubernetes.io/managed-by': 'cks-lab', 'cks-lab.io/session': '76c3ac1b' },
    });
    expect(secret.type).toBe('Opaque');
    expect(bootstrapPkiFromSecret(secret)).toEqual(pki);
  });

  it('also reads stringData (an in-memory API keeps what was sent)', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: BOOTSTRAP_PKI_SECRET },
      stringData: { 'ca.crt': pki.caCertPem, 'ca.key': pki.caKeyPem, token: pki.token, 'ca-cert-hash': pki.caCertHash },
    };
    expect(bootstrapPkiFromSecret(secret)).toEqual(pki);
  });

  it('refuses an incomplete or inconsistent Secret', () => {
    const secret = () => structuredClone(bootstrapPkiSecret('76c3ac1b', pki)) as KubeObject & { data: Record<string, string> };
    const broken = secret();
    delete broken.data['ca.key'];
    expect(() => bootstrapPkiFromSecret(broken)).toThrow(/has no "ca.key"/);
    const wrongHash = secret();
    wrongHash.data['ca-cert-hash'] = Buffer.from(`sha256:${'0'.repeat(64)}`).toString('base64');
    expect(() => bootstrapPkiFromSecret(wrongHash)).toThrow(/does not match/);
    const badToken = secret();
    badToken.data.token = Buffer.from('not-a-token').toString('base64');
    expect(() => bootstrapPkiFromSecret(badToken)).toThrow(/malformed bootstrap token/);
  });
});
