import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { crdsAvailable, DEFAULT_CRDS_DIR, loadCrdValidator } from './crd-validation';

const EXAMPLES_DIR = fileURLToPath(new URL('../../../../shared/examples', import.meta.url));
const available = crdsAvailable() && existsSync(EXAMPLES_DIR);
if (!available) console.warn(`skipping CRD validation tests: no CRDs at ${DEFAULT_CRDS_DIR} or no examples at ${EXAMPLES_DIR}`);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; [key: string]: any };

function examples(): Obj[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .flatMap((name) => yaml.loadAll(readFileSync(join(EXAMPLES_DIR, name), 'utf8')) as Obj[]);
}

describe.skipIf(!available)('CRD validator', () => {
  const validator = available ? loadCrdValidator() : null!;
  const exampleVm = () => structuredClone(examples().find((object) => object.kind === 'VirtualMachine')!);

  it('knows the kinds cks-lab creates', () => {
    for (const kind of [
      'kubevirt.io/v1/VirtualMachine',
      'cdi.kubevirt.io/v1beta1/DataVolume',
      'cdi.kubevirt.io/v1beta1/DataSource',
      'snapshot.kubevirt.io/v1beta1/VirtualMachineSnapshot',
      'k8s.cni.cncf.io/v1/NetworkAttachmentDefinition',
    ]) {
      expect(validator.kinds).toContain(kind);
    }
  });

  it('accepts the validated examples in ../shared/examples (sanity check of the validator itself)', () => {
    const covered = examples().filter((object) => validator.covers(object));
    expect(covered.length).toBeGreaterThanOrEqual(5);
    for (const object of covered) expect(validator.validate(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
  });

  it('reports core kinds as not covered rather than valid', () => {
    const namespace = examples().find((object) => object.kind === 'Namespace')!;
    expect(validator.covers(namespace)).toBe(false);
    expect(validator.validate(namespace)).toEqual([expect.stringMatching(/^not covered: no CRD for v1\/Namespace/)]);
  });

  it('rejects a misspelt field at any depth, as strict field validation would', () => {
    const vm = exampleVm();
    vm.spec.runStrategyy = 'Always';
    vm.spec.template.spec.domain.devices.interfaces[1].macAdress = '02:00:00:00:00:01';
    vm.spec.dataVolumeTemplates[0].spec.sourceRef.namspace = 'vm-templates';
    expect(validator.validate(vm)).toEqual(
      expect.arrayContaining([
        '/spec: unknown field "runStrategyy"',
        '/spec/template/spec/domain/devices/interfaces/1: unknown field "macAdress"',
        '/spec/dataVolumeTemplates/0/spec/sourceRef: unknown field "namspace"',
      ]),
    );
  });

  it('rejects fields inside an object schema without properties (the API server would prune them)', () => {
    const vm = exampleVm();
    vm.spec.template.spec.domain.devices.interfaces[0].masquerade = { ports: [80] };
    expect(validator.validate(vm)).toContain('/spec/template/spec/domain/devices/interfaces/0/masquerade: unknown field "ports"');
  });

  it('checks types, enums and required fields', () => {
    const vm = exampleVm();
    vm.spec.template.spec.domain.cpu.cores = 'two';
    delete vm.spec.template;
    const errors = validator.validate(vm);
    expect(errors).toContain("/spec: must have required property 'template'");
    const snapshot = structuredClone(examples().find((object) => object.kind === 'VirtualMachineSnapshot')!);
    snapshot.spec.source.kind = 7;
    expect(validator.validate(snapshot)).toContain('/spec/source/kind: must be string');
  });

  it('accepts integers and strings where the schema says int-or-string, and anything in metadata', () => {
    const dv = structuredClone(examples().find((object) => object.kind === 'DataVolume')!);
    dv.spec.storage.resources.requests.storage = 21474836480;
    dv.metadata.annotations = { anything: 'goes' };
    expect(validator.validate(dv)).toEqual([]);
  });

  it('keeps x-kubernetes-preserve-unknown-fields places open (embedded template metadata)', () => {
    const vm = exampleVm();
    vm.spec.dataVolumeTemplates[0].metadata.annotations = { 'cdi.kubevirt.io/storage.usePopulator': 'true' };
    expect(validator.validate(vm)).toEqual([]);
  });

  it('says so when an object is not a Kubernetes object', () => {
    expect(validator.validate({ kind: 'VirtualMachine' })).toEqual(['not a Kubernetes object: apiVersion and kind must be strings']);
    expect(validator.covers(null)).toBe(false);
  });
});
