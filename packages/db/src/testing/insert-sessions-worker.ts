import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../open-database';
import { sessionRecord } from './fixtures';

/**
 * One contender in the session-limit race: opens its own connection, waits for the common start
 * signal, then tries to insert its sessions and reports how many got in.
 */
export interface InsertSessionsJob {
  url: string;
  ids: string[];
  limit: number;
  /** Int32 flag the main thread flips to 1 to start every worker at once. */
  start: SharedArrayBuffer;
}

const job = workerData as InsertSessionsJob;
const lab = openDatabase(job.url);
const start = new Int32Array(job.start);
parentPort?.postMessage({ ready: true });
Atomics.wait(start, 0, 0);
let inserted = 0;
for (const id of job.ids) {
  if (await lab.store.insertSessionWithinLimit(sessionRecord(id), job.limit)) inserted++;
}
lab.close();
parentPort?.postMessage({ inserted });
