import { names, type Role } from '@cks-lab/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BootstrapPki, generateBootstrapPki } from '../guest/bootstrap-pki';
import type { KubeObject } from '../object-api';
import { apiVersionOf, resourceTypeOf } from '../resources';
import { type AnyObject, CORE_KINDS, crdValidator } from './examples-for-tests';
import { bootstrapFlowObjects, goldenBuildObjects, snapshotFlowObjects } from './flows';
import { clusterSettings, DEFAULT_CLUSTER_SETTINGS } from './settings';

const SESSION = '76c3ac1b';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const volumeSnapshots: Record<Role, string> = {
  'control-plane': 'vmsnapshot-1b2f0c4e-7d1a-4a8e-9f3b-2c6d5e7f8a90-volume-root',
  worker: 'vmsnapshot-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d-volume-root',
};

let pki: BootstrapPki;
beforeAll(async () => {
  pki = await generateBootstrapPki();
});

const settingsVariants = {
  default: DEFAULT_CLUSTER_SETTINGS,
  'storage class': clusterSettings({ storageClassName: 'ceph-rbd-virtualization', diskSize: '50Gi' }),
};

function flows(settings = DEFAULT_CLUSTER_SETTINGS, session = SESSION, version = 3): Record<string, KubeObject[]> {
  return {
    snapshot: snapshotFlowObjects(session, version, settings),
    bootstrap: bootstrapFlowObjects(session, settings, pki),
    golden: goldenBuildObjects(session, version, volumeSnapshots, settings),
  };
}

const describeObject = (object: KubeObject) => `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;

describe('flows', () => {
  it('list every object in creation order', () => {
    const order = (objects: KubeObject[]) => objects.map((object) => `${object.kind}/${object.metadata.name}`);
    const { snapshot, bootstrap, golden } = flows();
    const base = [
      'Namespace/user-session-76c3ac1b',
      'NetworkAttachmentDefinition/lab-net',
      'NetworkPolicy/session-isolation',
      'RoleBinding/golden-clone-user-session-76c3ac1b',
      'Service/cluster-api',
    ];
    expect(order(snapshot!)).toEqual([
      ...base,
      'Secret/cks-control-plane-user-session-76c3ac1b-cloudinit',
      'VirtualMachine/cks-control-plane-user-session-76c3ac1b',
      'Secret/cks-worker-node-user-session-76c3ac1b-cloudinit',
      'VirtualMachine/cks-worker-node-user-session-76c3ac1b',
    ]);
    expect(order(bootstrap!)).toEqual([
      ...base,
      'Secret/cks-lab-bootstrap',
      'Secret/cks-control-plane-user-session-76c3ac1b-cloudinit',
      'VirtualMachine/cks-control-plane-user-session-76c3ac1b',
      'Secret/cks-worker-node-user-session-76c3ac1b-cloudinit',
      'VirtualMachine/cks-worker-node-user-session-76c3ac1b',
    ]);
    expect(order(golden!)).toEqual([
      'VirtualMachineSnapshot/cks-control-plane-base-snapshot-v3',
      'VirtualMachineSnapshot/cks-worker-base-snapshot-v3',
      'DataVolume/cks-control-plane-golden-v3',
      'DataVolume/cks-worker-golden-v3',
      'DataSource/cks-control-plane-golden',
      'DataSource/cks-worker-golden',
    ]);
  });

  it('are deterministic for the same input', () => {
    expect(flows()).toEqual(flows());
  });

  it('pin both VMs of a snapshot session to the same golden version', () => {
    const vms = flows().snapshot!.filter((object) => object.kind === 'VirtualMachine') as AnyObject[];
    expect(vms.map((vm) => vm.spec.dataVolumeTemplates[0].spec.source.pvc.name)).toEqual([
      'cks-control-plane-golden-v3',
      'cks-worker-golden-v3',
    ]);
    expect(vms.map((vm) => vm.metadata.labels['cks-lab.io/golden-version'])).toEqual(['3', '3']);
  });

  it('copy each role from its own VolumeSnapshot in the source session', () => {
    const copies = flows().golden!.filter((object) => object.kind === 'DataVolume') as AnyObject[];
    expect(copies.map((dv) => dv.spec.source.snapshot)).toEqual([
      { namespace: 'user-session-76c3ac1b', name: volumeSnapshots['control-plane'] },
      { namespace: 'user-session-76c3ac1b', name: volumeSnapshots.worker },
    ]);
  });

  for (const [variant, settings] of Object.entries(settingsVariants)) {
    for (const [session, version] of [
      [SESSION, 3],
      ['ffffffff', 999_999],
      ['00000000', 1],
    ] as const) {
      describe(`(${variant} settings, session ${session}, golden v${version})`, () => {
        const all = () => Object.values(flows(settings, session, version)).flat();

        it('name everything with DNS-1123 labels of at most 63 characters', () => {
          for (const object of all()) {
            expect(object.metadata.name, describeObject(object)).toMatch(DNS_LABEL);
            expect(object.metadata.name.length, describeObject(object)).toBeLessThanOrEqual(63);
            for (const name of [...((object as AnyObject).spec?.dataVolumeTemplates ?? [])].map((t: AnyObject) => t.metadata.name)) {
              expect(name.length).toBeLessThanOrEqual(63);
            }
          }
          const vmNames = all()
            .filter((object) => object.kind === 'VirtualMachine')
            .map((object) => object.metadata.name);
          expect(new Set(vmNames)).toEqual(
            new Set([`cks-control-plane-user-session-${session}`, `cks-worker-node-user-session-${session}`]),
          );
          const namespaces = all()
            .filter((object) => object.kind === 'Namespace')
            .map((object) => object.metadata.name);
          expect(new Set(namespaces)).toEqual(new Set([`user-session-${session}`]));
        });

        it('put session objects in the session namespace and golden objects in vm-templates', () => {
          for (const object of all()) {
            const type = resourceTypeOf(object);
            expect(object.apiVersion).toBe(apiVersionOf(type));
            if (!type.namespaced) expect(object.metadata.namespace).toBeUndefined();
            else if (['RoleBinding', 'DataVolume', 'DataSource'].includes(object.kind))
              expect(object.metadata.namespace).toBe('vm-templates');
            else expect(object.metadata.namespace, describeObject(object)).toBe(names.namespace(session));
          }
        });

        it('label everything as managed by cks-lab, with valid label values', () => {
          for (const object of all()) {
            const labels = object.metadata.labels ?? {};
            expect(labels['app.kubernetes.io/managed-by'], describeObject(object)).toBe('cks-lab');
            for (const value of Object.values(labels)) {
              expect(value).toMatch(LABEL_VALUE);
              expect(value.length).toBeLessThanOrEqual(63);
            }
          }
        });

        it.runIf(crdValidator() !== null)(
          'validate against the CRDs with no unknown fields (core kinds: checked by the API-server tier)',
          () => {
            const validator = crdValidator()!;
            for (const object of all()) {
              if (validator.covers(object)) expect(validator.validate(object), describeObject(object)).toEqual([]);
              else expect(CORE_KINDS, describeObject(object)).toContain(`${object.apiVersion}/${object.kind}`);
            }
          },
        );
      });
    }
  }
});
