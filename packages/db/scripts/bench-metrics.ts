import { parseArgs } from 'node:util';
import { benchMetrics } from '../src/metrics-bench';

/** Seeds generated runs into a scratch database and prints how long each metrics query takes, as JSON. */
const { values } = parseArgs({ options: { count: { type: 'string', default: '100000' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got "${values.count}"`);
console.log(JSON.stringify(benchMetrics(count), null, 2));
