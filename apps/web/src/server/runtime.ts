import { type ClusterPort, type ConsolePort, Lab, type Logger } from '@cks-lab/core';
import { type LabDatabase, openDatabase } from '@cks-lab/db';
import { startSimulatedCluster } from '@cks-lab/kubevirt';
import { Accounts } from './accounts';
import { loadAdminToken, loadAuthSecret } from './admin-token';
import { type Auth, createAuth } from './auth';
import { readServerConfig, type ServerConfig } from './config';
import { settlesWithin } from './deadline';
import { createLogger } from './logger';
import { RateLimiter } from './rate-limit';
import { randomIds, systemClock } from './system';

export interface Runtime {
  lab: Lab;
  /** The session VMs' serial consoles (server/console-relay.ts hands them to their owners). */
  consoles: ConsolePort;
  database: LabDatabase;
  config: ServerConfig;
  adminToken: string;
  auth: Auth;
  accounts: Accounts;
  /** Session starts per learner per hour. */
  sessionStarts: RateLimiter;
  /** Password sign-in attempts per username. */
  signInAttempts: RateLimiter;
  logger: Logger;
  simulated: boolean;
  /** Simulator facts shown in the UI so nobody mistakes it for a real cluster. */
  simulation: { timeScale: number; faults: string[] } | null;
  /** API requests the platform has made to the cluster so far (benchmarks divide it per session). */
  apiRequests(): number;
  /**
   * Stops the orchestrator, waits for its running work (at most `graceMs`: what is still running
   * then stays at its last recorded step, which the next start resumes; the caller exits), then
   * stops the cluster and checkpoints and closes the database.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Wires the database, the cluster (simulated by default) and the orchestrator; resumes unfinished work. */
export async function createRuntime(config: ServerConfig = readServerConfig(), options: { maintenance?: boolean } = {}): Promise<Runtime> {
  const logger = createLogger({ cluster: config.cluster === 'sim' ? 'simulated' : 'kubernetes' });
  const database = openDatabase(config.databaseUrl);
  const adminToken = loadAdminToken(config.dataDir, config.adminToken, logger);
  const auth = createAuth({ database, secret: loadAuthSecret(config.dataDir, config.auth.secret), config: config.auth, logger });
  const accounts = new Accounts(auth, database.accounts, logger);
  await accounts.ensureFirstAdmin(config.auth.firstAdmin);
  const cluster = await startCluster(config, logger);
  const lab = new Lab({ cluster: cluster.port, store: database.store, clock: systemClock, ids: randomIds, logger, config: config.lab });
  await lab.start({ maintenanceIntervalMs: options.maintenance === false ? undefined : config.maintenanceIntervalMs });
  logger.info({ database: config.databaseUrl, mode: cluster.port.mode }, 'cks-lab orchestrator started');
  return {
    lab,
    consoles: cluster.console,
    database,
    config,
    adminToken,
    auth,
    accounts,
    sessionStarts: new RateLimiter(config.auth.sessionStartsPerHour, 3_600_000),
    // Ten tries in 15 minutes: plenty for typos, about a thousand guesses a day at most.
    signInAttempts: new RateLimiter(10, 15 * 60_000),
    logger,
    simulated: config.cluster === 'sim',
    simulation: config.cluster === 'sim' ? { timeScale: config.sim.timeScale, faults: [...config.sim.faults] } : null,
    apiRequests: () => cluster.api.requestCount,
    async close({ graceMs } = {}) {
      const stopped = lab.stop();
      if (graceMs === undefined) await stopped;
      else if (!(await settlesWithin(stopped, graceMs)))
        logger.warn(
          { graceMs },
          'the orchestrator had not stopped within the grace: unfinished steps stay at their last record and resume at the next start',
        );
      cluster.stop();
      database.close();
    },
  };
}

async function startCluster(
  config: ServerConfig,
  logger: Logger,
): Promise<{ port: ClusterPort; api: { readonly requestCount: number }; console: ConsolePort; stop: () => void }> {
  if (config.cluster === 'sim') {
    const sim = await startSimulatedCluster({
      settings: config.settings,
      model: config.sim.model,
      timeScale: config.sim.timeScale,
      faults: config.sim.faults,
      logger,
      statePath: config.sim.statePath,
    });
    return { port: sim.cluster, api: sim.platformApi, console: sim.console, stop: sim.stop };
  }
  const { startKubernetesCluster } = await import('@cks-lab/kubevirt/kubernetes');
  const kube = await startKubernetesCluster({ settings: config.settings, logger });
  return { port: kube.cluster, api: kube.api, console: kube.console, stop: kube.stop };
}

const RUNTIME = Symbol.for('cks-lab.runtime');
type Holder = typeof globalThis & { [RUNTIME]?: Promise<Runtime> };

/** One runtime per server process, also across Next.js dev reloads and separately bundled routes. */
export function getRuntime(): Promise<Runtime> {
  const holder = globalThis as Holder;
  holder[RUNTIME] ??= createRuntime().catch((error: unknown) => {
    delete holder[RUNTIME];
    throw error;
  });
  return holder[RUNTIME];
}
