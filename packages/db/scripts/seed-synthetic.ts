import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/open-database';
import { seedSynthetic } from '../src/synthetic';

/**
 * Replaces the synthetic run history of a database with --count runs. The database is --db, else
 * the one the web app uses (DATABASE_URL, else cks-lab.db in LAB_DATA_DIR or the repo's data/).
 * Synthetic rows stay out of every view unless a metrics query asks for them.
 */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const appDatabase = process.env.DATABASE_URL ?? join(resolve(process.env.LAB_DATA_DIR ?? join(repoRoot, 'data')), 'cks-lab.db');
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    db: { type: 'string', default: appDatabase },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got "${values.count}"`);
const lab = openDatabase(values.db);
try {
  const started = performance.now();
  const written = seedSynthetic(lab.db, { count });
  console.log(JSON.stringify({ database: values.db, ...written, ms: Math.round(performance.now() - started) }));
} finally {
  lab.close();
}
