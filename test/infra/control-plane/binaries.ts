/**
 * Where the real KubeVirt, CDI and snapshot controllers are: `control-plane.env` in the test cache,
 * written by test/infra/build-control-plane-binaries.sh (environment variables of the same names win).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, isExecutable, parseEnvFile } from '../cluster';

export interface ControlPlaneBinaries {
  virtController: string;
  virtApi: string;
  cdiController: string;
  cdiApiserver: string;
  snapshotController: string;
  kubeScheduler: string;
  kubevirtVersion: string;
  cdiVersion: string;
  snapshotterVersion: string;
  /** Folder with kubevirt/, cdi/ and snapshot/ YAML dumps of what each operator installs. */
  manifests: string;
}

const BUILD_HINT = 'run test/infra/build-test-binaries.sh and test/infra/build-control-plane-binaries.sh (needs Go)';

export function findControlPlaneBinaries(): ControlPlaneBinaries | { missing: string } {
  const read = (file: string) => {
    try {
      return parseEnvFile(readFileSync(path.join(cacheRoot(), file), 'utf8'));
    } catch {
      return {};
    }
  };
  const values = { ...read('current.env'), ...read('control-plane.env') };
  const pick = (key: string) => process.env[key] || values[key] || '';
  const executables = {
    virtController: 'VIRT_CONTROLLER',
    virtApi: 'VIRT_API',
    cdiController: 'CDI_CONTROLLER',
    cdiApiserver: 'CDI_APISERVER',
    snapshotController: 'SNAPSHOT_CONTROLLER',
    kubeScheduler: 'KUBE_SCHEDULER',
  } as const;
  const missing = Object.values(executables).filter((key) => !isExecutable(pick(key)));
  if (!pick('CONTROL_PLANE_MANIFESTS')) missing.push('CONTROL_PLANE_MANIFESTS' as never);
  if (missing.length > 0)
    return { missing: `real control-plane binaries not found (${missing.join(', ')} in ${cacheRoot()}): ${BUILD_HINT}` };
  return {
    ...(Object.fromEntries(Object.entries(executables).map(([field, key]) => [field, pick(key)])) as Record<
      keyof typeof executables,
      string
    >),
    kubevirtVersion: pick('KUBEVIRT_VERSION'),
    cdiVersion: pick('CDI_VERSION'),
    snapshotterVersion: pick('SNAPSHOTTER_VERSION'),
    manifests: pick('CONTROL_PLANE_MANIFESTS'),
  };
}
