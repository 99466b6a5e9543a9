import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import yaml from 'js-yaml';

/**
 * Offline validation of our objects against the official CRD schemas in ../shared/crds (docs/architecture.md#cluster-facts:
 * "anything we send to a cluster must validate against them"), strictly: a real API server silently
 * prunes fields its schema does not know, so here an unknown field is an error, as it is with
 * `fieldValidation=Strict`. Not checked here: CEL rules (x-kubernetes-validations), formats, list
 * semantics (x-kubernetes-list-type), and core kinds, which have no CRD — the real-API-server test
 * tier checks those.
 */

/** `<repo>/../shared/crds`, from this file's place in the repository; CKS_LAB_CRDS_DIR overrides. */
export const DEFAULT_CRDS_DIR = process.env.CKS_LAB_CRDS_DIR ?? fileURLToPath(new URL('../../../../shared/crds', import.meta.url));

export interface CrdValidator {
  readonly crdsDir: string;
  /** `apiVersion/kind` of every kind with a schema, e.g. "kubevirt.io/v1/VirtualMachine". */
  readonly kinds: readonly string[];
  /** Whether a CRD schema covers the object's apiVersion and kind. */
  covers(object: unknown): boolean;
  /**
   * Errors, one line each, `[]` when valid. An object no CRD covers gets a single
   * "not covered: …" entry (check `covers` first to tell that apart).
   */
  validate(object: unknown): string[];
}

type Schema = { [keyword: string]: unknown };

export function crdsAvailable(crdsDir: string = DEFAULT_CRDS_DIR): boolean {
  return existsSync(crdsDir) && readdirSync(crdsDir).some((name) => name.endsWith('.yaml'));
}

export function loadCrdValidator(crdsDir: string = DEFAULT_CRDS_DIR): CrdValidator {
  const schemas = readSchemas(crdsDir);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const compiled = new Map<string, ValidateFunction>();
  const keyOf = (object: unknown): string | null => {
    if (!isSchema(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') return null;
    return `${object.apiVersion}/${object.kind}`;
  };

  return {
    crdsDir,
    kinds: [...schemas.keys()].sort(),
    covers: (object) => {
      const key = keyOf(object);
      return key !== null && schemas.has(key);
    },
    validate: (object) => {
      const key = keyOf(object);
      if (key === null) return ['not a Kubernetes object: apiVersion and kind must be strings'];
      const schema = schemas.get(key);
      if (!schema) return [`not covered: no CRD for ${key} in ${crdsDir} (the real-API-server tier checks it)`];
      let validateFn = compiled.get(key);
      if (!validateFn) {
        validateFn = ajv.compile(strictStructural(schema, true));
        compiled.set(key, validateFn);
      }
      if (validateFn(object)) return [];
      return [...new Set((validateFn.errors ?? []).map(describe))];
    },
  };
}

/** Every served version's openAPIV3Schema, by `group/version/kind`. */
function readSchemas(crdsDir: string): Map<string, Schema> {
  const schemas = new Map<string, Schema>();
  for (const name of readdirSync(crdsDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()) {
    for (const document of yaml.loadAll(readFileSync(join(crdsDir, name), 'utf8'))) {
      if (!isSchema(document) || document.kind !== 'CustomResourceDefinition') continue;
      const spec = document.spec as {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }>;
      };
      for (const version of spec.versions) {
        const schema = version.schema?.openAPIV3Schema;
        if (schema) schemas.set(`${spec.group}/${version.name}/${spec.names.kind}`, schema);
      }
    }
  }
  return schemas;
}

/**
 * A structural CRD schema as a JSON schema that rejects what the API server would prune: every
 * object schema that neither preserves unknown fields nor says what its other properties are gets
 * `additionalProperties: false` (an object schema without properties keeps nothing at all). Only
 * structural positions (properties, items, additionalProperties) are walked: anyOf/allOf/oneOf/not
 * only restate value constraints and must not close the object. `x-kubernetes-int-or-string`
 * becomes integer-or-string, OpenAPI `nullable` becomes a "null" type, other x-kubernetes-*
 * keywords are dropped. The root `metadata` is only checked to be an object.
 */
function strictStructural(node: Schema, root = false): Schema {
  const out: Schema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword.startsWith('x-kubernetes-')) continue;
    if (keyword === 'properties' && isSchema(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [
          name,
          root && name === 'metadata' ? { type: 'object' } : isSchema(child) ? strictStructural(child) : child,
        ]),
      );
    } else if ((keyword === 'items' || keyword === 'additionalProperties') && isSchema(value)) {
      out[keyword] = strictStructural(value);
    } else {
      out[keyword] = value;
    }
  }
  if (node['x-kubernetes-int-or-string'] === true && out.anyOf === undefined) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
  }
  const preservesUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!preservesUnknown && out.additionalProperties === undefined && (out.properties !== undefined || out.type === 'object')) {
    out.additionalProperties = false;
  }
  return out;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${path}: unknown field "${String((error.params as { additionalProperty: unknown }).additionalProperty)}"`;
  }
  if (error.keyword === 'enum') {
    return `${path}: must be one of ${JSON.stringify((error.params as { allowedValues: unknown }).allowedValues)}`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
