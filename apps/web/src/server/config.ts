import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_CONFIG, type LabConfig, REAL_CLUSTER_DEADLINES, type StepDeadlines } from '@cks-lab/core';
import {
  type ClusterSettings,
  DEFAULT_CLUSTER_SETTINGS,
  DEFAULT_LATENCY_MODEL,
  type Fault,
  type LatencyModel,
  parseFaults,
  parseLatencyOverrides,
} from '@cks-lab/kubevirt';
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
  WARM_POOL_SIZE: z.coerce.number().int().nonnegative().optional(),
  SESSIONS_PER_LEARNER: z.coerce.number().int().positive().default(1),
  SESSION_STARTS_PER_HOUR: z.coerce.number().int().positive().default(12),
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters').optional(),
  LAB_PUBLIC_URL: z.url('LAB_PUBLIC_URL must be a URL such as https://lab.example.org').optional(),
  LAB_ADMIN_USERNAME: z.string().optional(),
  LAB_ADMIN_PASSWORD: z.string().min(12, 'LAB_ADMIN_PASSWORD must be at least 12 characters').optional(),
  OIDC_ISSUER: z.url('OIDC_ISSUER must be the issuer URL').optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_PROVIDER_NAME: z.string().min(1).default('single sign-on'),
  K8S_VERSION: z
    .string()
    .regex(/^v\d+\.\d+\.\d+$/, 'K8S_VERSION looks like v1.34.2')
    .default(DEFAULT_CONFIG.k8sVersion),
  MAINTENANCE_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
});

/** The variables read at run time: none may be a build input (turbo.json), or changing one would rebuild. */
export const RUNTIME_VARIABLES: readonly string[] = [...Object.keys(env.shape), 'PORT', 'HOSTNAME', 'LOG_LEVEL', 'KUBECONFIG'];

export interface ServerConfig {
  cluster: 'sim' | 'kube';
  dataDir: string;
  databaseUrl: string;
  lab: LabConfig;
  settings: ClusterSettings;
  sim: { timeScale: number; statePath: string; faults: Set<Fault>; model: LatencyModel };
  adminToken: string | undefined;
  maintenanceIntervalMs: number;
  auth: AuthConfig;
}

export interface AuthConfig {
  /** Signs auth cookies; generated once into the data directory when unset. */
  secret: string | undefined;
  /** Where learners reach the server; inferred from each request when unset. */
  publicUrl: string | undefined;
  firstAdmin: { username: string; password: string } | null;
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
  sessionStartsPerHour: number;
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

export function readServerConfig(source: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.LAB_ADMIN_USERNAME) !== Boolean(e.LAB_ADMIN_PASSWORD)) {
    throw new Error('invalid environment: set both LAB_ADMIN_USERNAME and LAB_ADMIN_PASSWORD, or neither');
  }
  const oidcSet = [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET].filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3)
    throw new Error('invalid environment: OIDC needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together');
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
      sessionsPerLearner: e.SESSIONS_PER_LEARNER,
      // Simulated members cost nothing; on a real cluster each holds two VMs, so it is opt-in.
      warmPoolSize: e.WARM_POOL_SIZE ?? (simulated ? 2 : 0),
      poolBackoffMs: simulated ? Math.max(1000, DEFAULT_CONFIG.poolBackoffMs * timeScale) : DEFAULT_CONFIG.poolBackoffMs,
      deadlines,
      goldenGraceMs: simulated ? Math.max(DEFAULT_CONFIG.goldenGraceMs * timeScale, 1000) : DEFAULT_CONFIG.goldenGraceMs,
      retryBackoffMs: simulated
        ? Math.max(50, Math.round(DEFAULT_CONFIG.retryBackoffMs * Math.min(1, timeScale * 10)))
        : DEFAULT_CONFIG.retryBackoffMs,
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
    auth: {
      secret: e.AUTH_SECRET,
      publicUrl: e.LAB_PUBLIC_URL,
      firstAdmin: e.LAB_ADMIN_USERNAME && e.LAB_ADMIN_PASSWORD ? { username: e.LAB_ADMIN_USERNAME, password: e.LAB_ADMIN_PASSWORD } : null,
      oidc:
        e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET
          ? {
              issuer: e.OIDC_ISSUER.replace(/\/$/, ''),
              clientId: e.OIDC_CLIENT_ID,
              clientSecret: e.OIDC_CLIENT_SECRET,
              name: e.OIDC_PROVIDER_NAME,
            }
          : null,
      sessionStartsPerHour: e.SESSION_STARTS_PER_HOUR,
    },
  };
}

/** Simulated time runs faster, so do its deadlines; a floor keeps them above scheduling noise. */
function scaleDeadlines(deadlines: StepDeadlines, scale: number): StepDeadlines {
  const floorMs = 3000;
  return Object.fromEntries(
    Object.entries(deadlines).map(([step, ms]) => [step, Math.max(Math.round(ms * scale), floorMs)]),
  ) as unknown as StepDeadlines;
}
