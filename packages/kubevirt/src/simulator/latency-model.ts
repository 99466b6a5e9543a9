import { DEFAULT_LATENCY_MODEL, type LatencyModel, type PerStep } from '@cks-lab/core';

// The table itself is core's, which the in-memory fake cluster follows too.
export { DEFAULT_LATENCY_MODEL, type LatencyModel };

/** Modelled critical path of one session per strategy (the worker joins after the control plane). */
export function modelledTimeToReady(model: LatencyModel): { snapshot: number; bootstrap: number } {
  return {
    snapshot: model.goldenSmartClone + model.vmStart + model.restoredBoot,
    bootstrap: model.baseImageClone + model.vmStart + model.controlPlaneBootstrap + model.baseImageClone + model.vmStart + model.workerJoin,
  };
}

/**
 * The model's duration (ms, at `timeScale`) of each provisioning step that waits on the cluster;
 * the steps that only create objects take no modelled time. The ready-time estimate starts from
 * these until runs have been recorded.
 */
export function modelledStepDurations(model: LatencyModel, timeScale = 1): PerStep<number> {
  const ms = (seconds: number) => seconds * 1000 * timeScale;
  return {
    snapshot: {
      'wait-disks-cloned': ms(model.goldenSmartClone),
      'wait-vms-running': ms(model.vmStart),
      'wait-cluster-ready': ms(model.restoredBoot),
    },
    bootstrap: {
      'wait-control-plane-ready': ms(model.baseImageClone + model.vmStart + model.controlPlaneBootstrap),
      'wait-cluster-ready': ms(model.baseImageClone + model.vmStart + model.workerJoin),
    },
  };
}

/** Parses `SIM_LATENCIES` overrides such as `vmStart=10,restoredBoot=30`. */
export function parseLatencyOverrides(text: string | undefined): Partial<LatencyModel> {
  const overrides: Partial<LatencyModel> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=');
    if (!key || !(key in DEFAULT_LATENCY_MODEL) || value === undefined || !Number.isFinite(Number(value)) || Number(value) < 0) {
      throw new Error(`SIM_LATENCIES: "${part}" is not <operation>=<seconds> with one of ${Object.keys(DEFAULT_LATENCY_MODEL).join(', ')}`);
    }
    overrides[key as keyof LatencyModel] = Number(value);
  }
  return overrides;
}
