export { type Account, SqliteAccounts } from './accounts';
export type { LabDb } from './lab-db';
export * from './metrics';
export { benchMetrics, type MetricsBenchResult, type MetricsTimings, timeMetricsQueries } from './metrics-bench';
export { type LabDatabase, MIGRATIONS_FOLDER, type OpenDatabaseOptions, openDatabase } from './open-database';
export * from './schema';
export { type RunHistoryOptions, type RunHistoryResult, seedRunHistory } from './seed-run-history';
export { recentStepDurations, STEP_HISTORY_RUNS } from './step-history';
export { SqliteStore } from './store';
