import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@cks-lab/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject, WatchEvent } from '../object-api';
import { StateJournal } from './state-journal';

let dir = '';
let path = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cks-lab-journal-'));
  path = join(dir, 'state.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recordingLogger(): Logger & { warnings: Array<{ fields: Record<string, unknown>; message: string }> } {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return { warnings, info: () => {}, error: () => {}, warn: (fields, message) => warnings.push({ fields, message }) };
}

/** A VM about the size of the simulator's (a few KiB with its template and status). */
function vm(name: string, phase: string): KubeObject {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: `lab-${name}`, resourceVersion: String(Math.floor(Math.random() * 1e9)) },
    spec: {
      template: { spec: { domain: { devices: { disks: [{ name: 'root' }] } }, volumes: [{ name: 'root', dataVolume: { name } }] } },
      padding: 'x'.repeat(2000),
    },
    status: { printableStatus: phase },
  };
}

const event = (type: WatchEvent['type'], object: KubeObject): WatchEvent => ({ type, object });

describe('StateJournal', () => {
  it('compacts while running: 500 create/delete cycles keep it near the live state, and a reload finds exactly the live objects', () => {
    const journal = new StateJournal(path, { minCompactBytes: 64 * 1024 });
    journal.load();
    const keep = vm('kept', 'Running');
    journal.record(event('ADDED', keep));
    let largest = 0;
    for (let i = 0; i < 500; i++) {
      const name = `s${i}`;
      journal.record(event('ADDED', vm(name, 'Provisioning')));
      journal.record(event('MODIFIED', vm(name, 'Starting')));
      journal.record(event('MODIFIED', vm(name, 'Running')));
      journal.record(event('DELETED', vm(name, 'Running')));
      largest = Math.max(largest, statSync(path).size);
    }
    // Without compaction this is about 4 MiB; it never passes the threshold by more than one line.
    expect(largest).toBeLessThan(64 * 1024 + 4096);
    expect(readdirSync(dir)).toEqual(['state.jsonl']);
    const reloaded = new StateJournal(path).load();
    expect(reloaded).toEqual([keep]);
  });

  it('compacts at the factor of the live state once that is above the minimum', () => {
    const journal = new StateJournal(path, { minCompactBytes: 1, compactFactor: 4 });
    journal.load();
    const objects = Array.from({ length: 10 }, (_, i) => vm(`v${i}`, 'Running'));
    for (const object of objects) journal.record(event('ADDED', object));
    const live = statSync(path).size;
    for (let round = 0; round < 20; round++) {
      for (const object of objects) journal.record(event('MODIFIED', object));
      expect(statSync(path).size).toBeLessThanOrEqual(4 * live + 4096);
    }
    expect(new StateJournal(path).load()).toHaveLength(10);
  });

  it('logs a damaged line and keeps it aside in <journal>.corrupt; the lines around it still count', () => {
    const before = vm('before', 'Running');
    const after = vm('after', 'Running');
    const torn = `{"t":"ADDED","o":{"apiVersion":"kubevirt.io/v1","kind":"Virt`;
    const shapeless = '{"t":"ADDED"}';
    writeFileSync(
      path,
      [JSON.stringify({ t: 'ADDED', o: before }), torn, shapeless, JSON.stringify({ t: 'ADDED', o: after }), ''].join('\n'),
    );
    const logger = recordingLogger();
    const journal = new StateJournal(path, { logger });
    expect(journal.load()).toEqual([before, after]);
    expect(readFileSync(journal.corruptPath, 'utf8')).toBe(`${torn}\n${shapeless}\n`);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]!.fields).toMatchObject({ lines: 2, keptIn: journal.corruptPath });
    // The journal itself is whole again, and a second load sets nothing more aside.
    expect(new StateJournal(path, { logger }).load()).toEqual([before, after]);
    expect(logger.warnings).toHaveLength(1);
  });

  it('a failed compaction leaves the journal whole and is retried later', () => {
    const logger = recordingLogger();
    const journal = new StateJournal(path, { logger, minCompactBytes: 16 * 1024 });
    journal.load();
    // A directory where the temporary file goes makes the compaction fail.
    const blocker = `${path}.tmp`;
    mkdirSync(blocker);
    for (let i = 0; i < 20; i++) journal.record(event('MODIFIED', vm('same', `phase-${i}`)));
    const failures = logger.warnings.filter((w) => w.message === 'simulator journal not compacted; will retry').length;
    expect(failures).toBeGreaterThan(0);
    expect(new StateJournal(path).load().map((o) => o.status)).toEqual([{ printableStatus: 'phase-19' }]);
    rmSync(blocker, { recursive: true });
    for (let i = 0; i < 20; i++) journal.record(event('MODIFIED', vm('same', 'last')));
    expect(logger.warnings).toHaveLength(failures);
    expect(statSync(path).size).toBeLessThan(16 * 1024 + 4096);
    expect(readdirSync(dir)).toEqual(['state.jsonl']);
  });
});
