import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { assertSessionId, dnsLabel, GOLDEN_NAMESPACE, guestIdentity, isSessionId, MAX_LABEL_LENGTH, names } from './naming';
import { ROLES } from './types';

const ID = '76c3ac1b';
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('names users already know', () => {
  it('keeps the session, VM and golden names exactly', () => {
    expect(names.namespace(ID)).toBe('user-session-76c3ac1b');
    expect(names.vm('control-plane', ID)).toBe('cks-control-plane-user-session-76c3ac1b');
    expect(names.vm('worker', ID)).toBe('cks-worker-node-user-session-76c3ac1b');
    expect(GOLDEN_NAMESPACE).toBe('vm-templates');
    // Logical golden names, versioned.
    expect(names.goldenSnapshot('control-plane', 3)).toBe('cks-control-plane-base-snapshot-v3');
    expect(names.goldenSnapshot('worker', 3)).toBe('cks-worker-base-snapshot-v3');
  });

  it('derives the other generated names from them', () => {
    expect(names.rootDisk('control-plane', ID)).toBe('cks-control-plane-user-session-76c3ac1b-root');
    expect(names.cloudInit('worker', ID)).toBe('cks-worker-node-user-session-76c3ac1b-cloudinit');
    expect(names.cloneRoleBinding(ID)).toBe('golden-clone-user-session-76c3ac1b');
    expect(names.goldenCopy('control-plane', 12)).toBe('cks-control-plane-golden-v12');
    expect(names.goldenCopy('worker', 12)).toBe('cks-worker-golden-v12');
    expect(names.goldenDataSource('control-plane')).toBe('cks-control-plane-golden');
    expect(names.goldenDataSource('worker')).toBe('cks-worker-golden');
  });

  it('makes every generated name a DNS-1123 label of at most 63 characters, for any id and large versions', () => {
    const ids = ['00000000', 'ffffffff', ID];
    const versions = [1, 99, 123_456, Number.MAX_SAFE_INTEGER];
    const all: string[] = [names.network(), names.apiService(), names.networkPolicy()];
    for (const id of ids) {
      all.push(names.namespace(id), names.cloneRoleBinding(id));
      for (const role of ROLES) all.push(names.vm(role, id), names.rootDisk(role, id), names.cloudInit(role, id));
    }
    for (const role of ROLES) {
      all.push(names.goldenDataSource(role));
      for (const v of versions) all.push(names.goldenSnapshot(role, v), names.goldenCopy(role, v));
    }
    for (const name of all) {
      expect(name.length, name).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
      expect(name, name).toMatch(DNS1123);
    }
    // The longest session-derived name still has room.
    expect(Math.max(...all.map((n) => n.length))).toBeLessThanOrEqual(63);
  });

  it('checks generated names instead of assuming them: a version that renders badly is rejected', () => {
    expect(() => names.goldenSnapshot('control-plane', 1e21)).toThrow(ValidationError); // "1e+21"
    expect(() => names.goldenCopy('worker', 1.5)).toThrow(ValidationError);
    expect(() => names.goldenCopy('worker', Number.NaN)).toThrow(ValidationError);
  });

  it('keeps the guest identity a restored kubeadm cluster needs', () => {
    expect(guestIdentity['control-plane']).toMatchObject({ hostname: 'controlplane', labIp: '192.168.100.10' });
    expect(guestIdentity.worker).toMatchObject({ hostname: 'node01', labIp: '192.168.100.11' });
    expect(guestIdentity['control-plane'].mac).not.toBe(guestIdentity.worker.mac);
  });
});

describe('session ids', () => {
  it.each(['76c3ac1b', '00000000', 'ffffffff', '0123abcd'])('accepts %s', (id) => {
    expect(isSessionId(id)).toBe(true);
    expect(assertSessionId(id)).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['too short', '76c3ac1'],
    ['too long', '76c3ac1bb'],
    ['uppercase', '76C3AC1B'],
    ['non-hex', '76c3ac1g'],
    ['dash', '76c3-c1b'],
    ['leading space', ' 76c3ac1'],
    ['trailing newline', '76c3ac1b\n'],
    ['path traversal', '../../etc'],
    ['namespace instead of id', 'user-session-76c3ac1b'],
    ['unicode digits', '７６c3ac1b'],
  ])('rejects a malformed id (%s) with a ValidationError naming the format', (_label, id) => {
    expect(isSessionId(id)).toBe(false);
    expect(() => assertSessionId(id)).toThrow(ValidationError);
    expect(() => assertSessionId(id)).toThrow(/8 lowercase hex/);
    // Every name built from a session id refuses it too.
    expect(() => names.namespace(id)).toThrow(ValidationError);
    expect(() => names.vm('worker', id)).toThrow(ValidationError);
    expect(() => names.cloneRoleBinding(id)).toThrow(ValidationError);
  });
});

describe('dnsLabel', () => {
  it('accepts labels up to 63 characters', () => {
    expect(dnsLabel('a')).toBe('a');
    expect(dnsLabel('a'.repeat(63))).toHaveLength(63);
    expect(dnsLabel('a-0-b')).toBe('a-0-b');
  });

  it('rejects 64 characters with the length in the message', () => {
    expect(() => dnsLabel('a'.repeat(64))).toThrow(ValidationError);
    expect(() => dnsLabel('a'.repeat(64))).toThrow(/64 characters.*at most 63/);
  });

  it.each(['', '-a', 'a-', 'A', 'a_b', 'a.b', 'a b', 'ä'])('rejects %j', (name) => {
    expect(() => dnsLabel(name)).toThrow(ValidationError);
  });
});
