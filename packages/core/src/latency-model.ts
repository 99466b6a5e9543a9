/**
 * Modelled latencies of the cluster operations, in model seconds: the simulator plays them, the
 * in-memory fake cluster and the seeded run history follow them. They are a model from the user's
 * plan and public measurements, not a measurement of any cluster.
 */
export interface LatencyModel {
  goldenSmartClone: number;
  vmStart: number;
  restoredBoot: number;
  baseImageClone: number;
  controlPlaneBootstrap: number;
  workerJoin: number;
  vmHalt: number;
  vmSnapshot: number;
  goldenCopy: number;
  /**
   * From the last pod using a claim gone to the claim's `kubernetes.io/pvc-protection` finalizer
   * removed (the kubelet's volume teardown, then kube-controller-manager's pvc-protection controller).
   */
  claimRelease: number;
}

export const DEFAULT_LATENCY_MODEL: LatencyModel = {
  goldenSmartClone: 5,
  vmStart: 20,
  restoredBoot: 45,
  baseImageClone: 5,
  controlPlaneBootstrap: 300,
  workerJoin: 120,
  vmHalt: 15,
  vmSnapshot: 30,
  goldenCopy: 20,
  claimRelease: 2,
};
