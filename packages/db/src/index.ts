export * from './schema';
export type { LabDb } from './lab-db';
export { openDatabase, MIGRATIONS_FOLDER, type LabDatabase, type OpenDatabaseOptions } from './open-database';
export { SqliteStore } from './store';
export { SqliteAccounts, type Account } from './accounts';
export * from './metrics';
export { seedRunHistory, type RunHistoryOptions, type RunHistoryResult } from './seed-run-history';
export { benchMetrics, timeMetricsQueries, type MetricsBenchResult, type MetricsTimings } from './metrics-bench';
export { recentStepDurations, STEP_HISTORY_RUNS } from './step-history';
