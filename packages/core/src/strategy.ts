import type { FallbackReason, GoldenDiskState, GoldenImage, Preflight, Strategy } from './types';

export interface StrategyInputs {
  golden: GoldenImage | null;
  /** The newest golden image record of any status: without an active image it says why there is none. */
  newest: GoldenImage | null;
  /** Live state of the golden disks in the cluster (the cluster is the truth for what exists). */
  goldenDisks: readonly GoldenDiskState[];
  preflight: Preflight;
  k8sVersion: string;
  now: number;
}

export type StrategyDecision =
  | { strategy: 'snapshot'; golden: GoldenImage; reason: null; detail: string }
  | { strategy: 'bootstrap'; golden: null; reason: FallbackReason; detail: string };

const READY_DISK_PHASE = 'Succeeded';

/** Snapshot only when a usable golden image exists; otherwise bootstrap, with the reason. */
export function selectStrategy(input: StrategyInputs): StrategyDecision {
  const { golden, preflight } = input;
  if (!preflight.snapshotSupported) {
    return bootstrap('snapshot-unsupported', preflight.snapshotUnsupportedReason ?? 'the cluster lacks snapshot support');
  }
  if (!golden) return withoutGolden(input.newest);
  const notReady = golden.disks.filter((disk) => input.goldenDisks.find((state) => state.role === disk.role)?.phase !== READY_DISK_PHASE);
  if (golden.disks.length < 2 || notReady.length > 0) {
    const which = notReady.map((d) => d.role).join(' and ') || 'a';
    return bootstrap('golden-not-ready', `golden image v${golden.version}: ${which} disk is not ready in the cluster`);
  }
  if (golden.k8sVersion !== input.k8sVersion) {
    return bootstrap(
      'version-mismatch',
      `golden image v${golden.version} runs Kubernetes ${golden.k8sVersion}, sessions need ${input.k8sVersion}`,
    );
  }
  if (golden.expiresAt <= input.now) {
    return bootstrap('golden-expired', `golden image v${golden.version} expired on ${new Date(golden.expiresAt).toISOString()}`);
  }
  return { strategy: 'snapshot', golden, reason: null, detail: `golden image v${golden.version}` };
}

/** A failed build is a reason of its own; a deleted or unfinished image is named, so nobody reads "never built". */
function withoutGolden(newest: GoldenImage | null): StrategyDecision {
  switch (newest?.status) {
    case 'failed':
      return bootstrap(
        'golden-build-failed',
        `the build of golden image v${newest.version} failed: ${newest.failureReason ?? 'no reason was recorded'}`,
      );
    case 'deleting':
    case 'deleted':
      return bootstrap('no-golden-image', `golden image v${newest.version} was deleted`);
    case 'building':
      return bootstrap('no-golden-image', `golden image v${newest.version} is still being built`);
    default:
      return bootstrap('no-golden-image', 'no golden image has been built yet');
  }
}

function bootstrap(reason: FallbackReason, detail: string): StrategyDecision {
  return { strategy: 'bootstrap', golden: null, reason, detail };
}

export const FALLBACK_REASON_TEXT: Record<FallbackReason, string> = {
  'no-golden-image': 'No golden image exists yet',
  'golden-build-failed': 'The golden image build failed',
  'golden-not-ready': 'The golden image disks are not ready',
  'version-mismatch': 'The golden image runs another Kubernetes version',
  'golden-expired': 'The golden image has expired (certificates)',
  'snapshot-unsupported': 'The cluster cannot take or clone snapshots',
  'snapshot-path-failed': 'Cloning from the golden image failed',
};

export function otherStrategy(strategy: Strategy): Strategy {
  return strategy === 'snapshot' ? 'bootstrap' : 'snapshot';
}
