import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { type CrdValidator, crdsAvailable, loadCrdValidator } from '../crd-validation';

/** The validated illustrations in ../shared/examples, which the builders' output is compared with. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../../../shared/examples', import.meta.url));

/** Loosely typed object for tests that reach into specs (labels typed as present: a test fails anyway when they are not). */
export type AnyObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
};

export function examplesAvailable(): boolean {
  const found = existsSync(EXAMPLES_DIR);
  if (!found) console.warn(`skipping comparisons with the examples: ${EXAMPLES_DIR} is absent`);
  return found;
}

export function example(kind: string, name?: string): AnyObject {
  const all = readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => yaml.loadAll(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as AnyObject[]);
  const found = all.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in the examples`);
  return structuredClone(found);
}

let validator: CrdValidator | null | undefined;

/** The CRD validator, or null (with a printed message) when ../shared/crds is absent. */
export function crdValidator(): CrdValidator | null {
  if (validator === undefined) {
    validator = crdsAvailable() ? loadCrdValidator() : null;
    if (!validator) console.warn('skipping CRD validation: ../shared/crds is absent');
  }
  return validator;
}

/** Kinds without a CRD in ../shared/crds; the real-API-server tier validates them. */
export const CORE_KINDS = [
  'v1/Namespace',
  'v1/Secret',
  'v1/Service',
  'networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/RoleBinding',
];
