import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase } from './open-database';
import { tempDir } from './testing/fixtures';
import type { InsertSessionsJob } from './testing/insert-sessions-worker';

/** Worker threads run plain Node, so the worker registers tsx before importing its TypeScript. */
const TS_WORKER_BOOTSTRAP = `import('tsx/esm/api').then((tsx) => {
  tsx.register();
  return import(${JSON.stringify(new URL('./testing/insert-sessions-worker.ts', import.meta.url).href)});
});`;

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

it('holds the session limit when separate connections insert at the same moment', async () => {
  const url = join(dir.path, 'lab.db');
  openDatabase(url).close();
  const limit = 10;
  const start = new SharedArrayBuffer(4);
  const workers = Array.from({ length: 4 }, (_, w) => {
    const job: InsertSessionsJob = {
      url,
      ids: Array.from({ length: 25 }, (_, i) => (w * 100 + i).toString(16).padStart(8, '0')),
      limit,
      start,
    };
    return new Worker(TS_WORKER_BOOTSTRAP, { eval: true, workerData: job });
  });
  const message = (worker: Worker, key: string) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      worker.on('message', (m: Record<string, number>) => key in m && resolve(m));
      worker.on('error', reject);
    });
  const results = workers.map((worker) => message(worker, 'inserted'));
  await Promise.all(workers.map((worker) => message(worker, 'ready')));
  Atomics.store(new Int32Array(start), 0, 1);
  Atomics.notify(new Int32Array(start), 0);

  const inserted = (await Promise.all(results)).map((r) => r.inserted ?? 0);
  expect(inserted.reduce((a, b) => a + b, 0)).toBe(limit);
  const lab = openDatabase(url);
  expect(await lab.store.countActiveSessions()).toBe(limit);
  lab.close();
}, 30_000);
