import { type DiskSource, names } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import { POD_NIC_MAC } from '../guest/netplan';
import { type AnyObject, example, examplesAvailable } from './examples-for-tests';
import { clusterSettings, DEFAULT_CLUSTER_SETTINGS } from './settings';
import { cloudInitSecret, virtualMachine } from './virtual-machine';

const SESSION = '76c3ac1b';
const golden = (version: number, role: 'control-plane' | 'worker'): DiskSource => ({
  kind: 'golden',
  version,
  pvc: names.goldenCopy(role, version),
});
const vm = (role: 'control-plane' | 'worker', source: DiskSource, settings = DEFAULT_CLUSTER_SETTINGS) =>
  virtualMachine(SESSION, role, source, settings) as AnyObject;

describe('virtualMachine', () => {
  it.runIf(examplesAvailable())('matches the example snapshot-path VM except where cks-lab chose otherwise', () => {
    const expected = example('VirtualMachine');
    // The run's pinned golden version is recorded on the VM.
    expected.metadata.labels['cks-lab.io/golden-version'] = '3';
    // The pinned version's PVC instead of the stable DataSource, and no size: CDI sizes the clone
    // from it (see rootDiskTemplate).
    expected.spec.dataVolumeTemplates[0].spec = {
      source: { pvc: { namespace: 'vm-templates', name: 'cks-control-plane-golden-v3' } },
      storage: {},
    };
    // A fixed MAC on the pod-network NIC too (see virtualMachine).
    expected.spec.template.spec.domain.devices.interfaces[0].macAddress = '02:c5:1a:00:01:10';
    // The cloud-init Secret is named by core's naming.
    expected.spec.template.spec.volumes[1].cloudInitNoCloud.secretRef.name = 'cks-control-plane-user-session-76c3ac1b-cloudinit';
    expect(vm('control-plane', golden(3, 'control-plane'))).toEqual(expected);
  });

  it('gives the worker its own identity and the worker readiness check', () => {
    const worker = vm('worker', golden(3, 'worker'));
    expect(worker.metadata.name).toBe('cks-worker-node-user-session-76c3ac1b');
    expect(worker.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'cks-lab',
      'cks-lab.io/session': SESSION,
      'cks-lab.io/role': 'worker',
      'cks-lab.io/golden-version': '3',
    });
    const spec = worker.spec.template.spec;
    expect(spec.hostname).toBe('node01');
    expect(spec.domain.devices.interfaces).toEqual([
      { name: 'default', masquerade: {}, macAddress: '02:c5:1a:00:01:11' },
      { name: 'lab', bridge: {}, macAddress: '02:c5:1a:00:00:11' },
    ]);
    expect(spec.readinessProbe.exec.command).toEqual(['/usr/local/bin/cks-lab-ready']);
    expect(worker.spec.dataVolumeTemplates[0].metadata.name).toBe('cks-worker-node-user-session-76c3ac1b-root');
    expect(worker.spec.dataVolumeTemplates[0].spec.source).toEqual({ pvc: { namespace: 'vm-templates', name: 'cks-worker-golden-v3' } });
  });

  it('clones the base image DataSource on the bootstrap path, without a golden label', () => {
    const controlPlane = vm('control-plane', { kind: 'base-image' });
    expect(controlPlane.metadata.labels['cks-lab.io/golden-version']).toBeUndefined();
    expect(controlPlane.spec.dataVolumeTemplates[0].spec).toEqual({
      sourceRef: { kind: 'DataSource', namespace: 'vm-templates', name: 'ubuntu-2404-base' },
      storage: { resources: { requests: { storage: '20Gi' } } },
    });
  });

  it('lets the bootstrap control plane be ready with one node (the worker comes after it)', () => {
    expect(vm('control-plane', { kind: 'base-image' }).spec.template.spec.readinessProbe.exec.command).toEqual([
      '/usr/local/bin/cks-lab-ready',
      '1',
    ]);
    expect(vm('worker', { kind: 'base-image' }).spec.template.spec.readinessProbe.exec.command).toEqual(['/usr/local/bin/cks-lab-ready']);
    expect(vm('control-plane', golden(1, 'control-plane')).spec.template.spec.readinessProbe.exec.command).toEqual([
      '/usr/local/bin/cks-lab-ready',
    ]);
  });

  it('probes both roles with sane timing', () => {
    for (const role of ['control-plane', 'worker'] as const) {
      const probe = vm(role, golden(1, role)).spec.template.spec.readinessProbe;
      expect(probe.initialDelaySeconds).toBeGreaterThan(0);
      expect(probe.timeoutSeconds).toBeGreaterThanOrEqual(probe.periodSeconds);
      expect(probe.failureThreshold * probe.periodSeconds).toBeLessThanOrEqual(30);
    }
  });

  it('gives the pod-network NIC a fixed MAC of its role, the same for a restored and a bootstrapped VM', () => {
    for (const role of ['control-plane', 'worker'] as const) {
      const macs = [golden(1, role), { kind: 'base-image' } as const].map(
        (source) => vm(role, source).spec.template.spec.domain.devices.interfaces[0],
      );
      expect(macs).toEqual([
        { name: 'default', masquerade: {}, macAddress: POD_NIC_MAC[role] },
        { name: 'default', masquerade: {}, macAddress: POD_NIC_MAC[role] },
      ]);
    }
  });

  // CDI v1.64.0 pkg/controller/clone/planner.go validateSourcePVC refuses a target claim smaller than
  // its source, and a requested size is inflated by the filesystem overhead that the golden PVC
  // already carries: a golden clone asks for no size (pvc-clone-controller.go detectCloneSize).
  it('lets CDI size a golden clone from its source, and grows a base-image clone to the configured disk size', () => {
    const settings = clusterSettings({ diskSize: '40Gi', storageClassName: 'ceph-rbd' });
    expect(vm('control-plane', golden(2, 'control-plane'), settings).spec.dataVolumeTemplates[0].spec.storage).toEqual({
      storageClassName: 'ceph-rbd',
    });
    expect(vm('worker', golden(2, 'worker')).spec.dataVolumeTemplates[0].spec.storage).toEqual({});
    expect(vm('worker', { kind: 'base-image' }, settings).spec.dataVolumeTemplates[0].spec.storage).toEqual({
      resources: { requests: { storage: '40Gi' } },
      storageClassName: 'ceph-rbd',
    });
  });

  it('uses the configured VM resources', () => {
    const settings = clusterSettings({
      resources: { 'control-plane': { cores: 4, memory: '8Gi' }, worker: { cores: 1, memory: '2Gi' } },
    });
    const controlPlane = vm('control-plane', golden(2, 'control-plane'), settings);
    expect(controlPlane.spec.template.spec.domain.cpu).toEqual({ cores: 4 });
    expect(controlPlane.spec.template.spec.domain.memory).toEqual({ guest: '8Gi' });
    expect(vm('worker', golden(2, 'worker'), settings).spec.template.spec.domain.memory).toEqual({ guest: '2Gi' });
  });

  it('is deterministic', () => {
    expect(vm('control-plane', golden(3, 'control-plane'))).toEqual(vm('control-plane', golden(3, 'control-plane')));
  });
});

describe('cloudInitSecret', () => {
  it('holds the user data under "userdata" in an Opaque Secret named for the VM', () => {
    const secret = cloudInitSecret(SESSION, 'worker', '#cloud-config\n{}\n') as AnyObject;
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'cks-worker-node-user-session-76c3ac1b-cloudinit',
        namespace: 'user-session-76c3ac1b',
        labels: { 'app.kubernetes.io/managed-by': 'cks-lab', 'cks-lab.io/session': SESSION, 'cks-lab.io/role': 'worker' },
      },
      type: 'Opaque',
      data: { userdata: Buffer.from('#cloud-config\n{}\n').toString('base64') },
    });
  });

  it('is the Secret the VM mounts', () => {
    const secret = cloudInitSecret(SESSION, 'control-plane', 'x') as AnyObject;
    const volume = vm('control-plane', { kind: 'base-image' }).spec.template.spec.volumes.find((v: AnyObject) => v.cloudInitNoCloud);
    expect(volume.cloudInitNoCloud.secretRef.name).toBe(secret.metadata.name);
  });
});
