import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_CONFIG, REAL_CLUSTER_DEADLINES, type LabConfig, type StepDeadlines } from '@cks-lab/core';
import { DEFAULT_CLUSTER_SETTINGS, DEFAULT_LATENCY_MODEL, parseFaults, parseLatencyOverrides, type ClusterSettings, type Fault, type LatencyModel } from '@cks-lab/kubevirt';
import { z } from 'zod';

/** Everything the server reads from its environment, validated once at start-up with clear errors. */
const env = z.object({
  LAB_CLUSTER: z.enum(['sim', 'kube']).default('sim'),
  LAB_DATA_DIR: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  SIM_TIME_SCALE: z.coerce.number().positive().max(10).default(0.05),
  SIM_STATE: z.string().optional(),
  SIM_FAULTS: z.string().optional(),
  SIM_LATENCIES: z.string().optional(),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  SESSION_TTL_MINUTES: z.coerce.number().int().positive().default(60),
  MAX_CONCURRENT_SESSIONS: z.coerce.number().int().positive().default(10),
  K8S_VERSION: z.string().regex(/^v\d+\.\d+\.\d+$/, 'K8S_VERSION looks like v1.34.2').default(DEFAULT_CONFIG.k8sVersion),
  MAINTENANCE_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
});

export interface ServerConfig {
  cluster: 'sim' | 'kube';
  dataDir: string;
  databaseUrl: string;
  lab: LabConfig;
  settings: ClusterSettings;
  sim: { timeScale: number; statePath: string; faults: Set<Fault>; model: LatencyModel };
  adminToken: string | undefined;
  maintenanceIntervalMs: number;
}

/** The repository root (where turbo.json is), so `./data` means the same place from any workspace. */
function repoRoot(from = process.cwd()): string {
  let dir = resolve(from);
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'turbo.json'))) return dir;
    dir = dirname(dir);
  }
  return resolve(from);
}

export function readServerConfig(source: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.LAB_DATA_DIR ?? join(repoRoot(), 'data'));
  const simulated = e.LAB_CLUSTER === 'sim';
  const timeScale = e.SIM_TIME_SCALE;
  const deadlines = simulated ? scaleDeadlines(REAL_CLUSTER_DEADLINES, timeScale) : REAL_CLUSTER_DEADLINES;
  return {
    cluster: e.LAB_CLUSTER,
    dataDir,
    databaseUrl: (e.DATABASE_URL ?? join(dataDir, 'cks-lab.db')).replace(/^file:/, ''),
    lab: {
      ...DEFAULT_CONFIG,
      k8sVersion: e.K8S_VERSION,
      sessionTtlMs: e.SESSION_TTL_MINUTES * 60_000,
      maxConcurrentSessions: e.MAX_CONCURRENT_SESSIONS,
      deadlines,
      goldenGraceMs: simulated ? Math.max(DEFAULT_CONFIG.goldenGraceMs * timeScale, 1000) : DEFAULT_CONFIG.goldenGraceMs,
      retryBackoffMs: simulated ? Math.max(50, Math.round(DEFAULT_CONFIG.retryBackoffMs * Math.min(1, timeScale * 10))) : DEFAULT_CONFIG.retryBackoffMs,
    },
    settings: { ...DEFAULT_CLUSTER_SETTINGS, k8sVersion: e.K8S_VERSION },
    sim: {
      timeScale,
      statePath: resolve(e.SIM_STATE ?? join(dataDir, 'simulated-cluster.jsonl')),
      faults: parseFaults(e.SIM_FAULTS),
      model: { ...DEFAULT_LATENCY_MODEL, ...parseLatencyOverrides(e.SIM_LATENCIES) },
    },
    adminToken: e.ADMIN_TOKEN,
    maintenanceIntervalMs: e.MAINTENANCE_INTERVAL_MS,
  };
}

/** Simulated time runs faster, so do its deadlines; a floor keeps them above scheduling noise. */
function scaleDeadlines(deadlines: StepDeadlines, scale: number): StepDeadlines {
  const floorMs = 3000;
  return Object.fromEntries(
    Object.entries(deadlines).map(([step, ms]) => [step, Math.max(Math.round(ms * scale), floorMs)]),
  ) as unknown as StepDeadlines;
}
