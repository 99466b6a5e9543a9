import { describe, expect, it } from 'vitest';
import { names } from './naming';
import type { DiskSource } from './ports';
import { createTestLab, seedGolden, type TestLab } from './testing';
import type { GoldenImage, Run } from './types';

/**
 * A session created while the golden image is being rebuilt gets the old pair of
 * disks or the new pair, never one of each.
 */

const S = 1000;

/** A small deterministic PRNG (mulberry32), so the interleavings are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pair {
  id: string;
  createdAt: number;
  run: Run;
  controlPlane: DiskSource;
  worker: DiskSource;
}

async function pairs(h: TestLab, ids: readonly string[]): Promise<Pair[]> {
  return Promise.all(
    ids.map(async (id) => {
      const detail = await h.lab.getSession(id);
      const controlPlane = h.cluster.vm(id, 'control-plane')?.source;
      const worker = h.cluster.vm(id, 'worker')?.source;
      expect(controlPlane, id).toBeDefined();
      expect(worker, id).toBeDefined();
      return { id, createdAt: detail.session.createdAt, run: detail.run!, controlPlane: controlPlane!, worker: worker! };
    }),
  );
}

/** The invariant: both VMs from the same version, that version's own two disks, the one the run pinned. */
function expectOnePair(pair: Pair): number {
  const { controlPlane, worker, run, id } = pair;
  expect(controlPlane.kind, id).toBe('golden');
  expect(worker.kind, id).toBe('golden');
  if (controlPlane.kind !== 'golden' || worker.kind !== 'golden') throw new Error('unreachable');
  expect(worker.version, `${id}: control plane v${controlPlane.version}, worker v${worker.version}`).toBe(controlPlane.version);
  expect(controlPlane.pvc, id).toBe(names.goldenCopy('control-plane', controlPlane.version));
  expect(worker.pvc, id).toBe(names.goldenCopy('worker', worker.version));
  expect(run.goldenVersion, id).toBe(controlPlane.version);
  // And the clone worked: the version was kept while the session cloned from it.
  expect(run, id).toMatchObject({ outcome: 'succeeded', usedStrategy: 'snapshot', fallbackReason: null });
  return controlPlane.version;
}

/** No golden version was deleted while a run pinned to it was unfinished. */
function expectNoVersionCollectedUnderARun(h: TestLab, runs: readonly Run[]): void {
  for (const call of h.cluster.callsOf('deleteGoldenVersion')) {
    const version = call.args[0] as number;
    const using = runs.filter((r) => r.goldenVersion === version && r.startedAt <= call.at && (r.endedAt === null || r.endedAt > call.at));
    expect(
      using.map((r) => r.id),
      `v${version} deleted at ${call.at} under unfinished runs`,
    ).toEqual([]);
  }
}

describe('golden pair consistency during rebuilds', () => {
  it('through the Lab: sessions created throughout three rebuilds each get one whole pair', async () => {
    const h = createTestLab({ config: { maxConcurrentSessions: 1000, goldenGraceMs: 30 * S } });
    const sourceSession = await h.lab.createSession();
    await h.lab.idle();
    const source = sourceSession.id;
    await h.lab.createGolden(source);
    await h.lab.idle();

    h.cluster.delays.api = 250; // every API call takes a little while, so work overlaps more
    const random = prng(42);
    const creations: Promise<{ id: string }>[] = [];
    const activations: GoldenImage[] = [];
    for (let rebuild = 0; rebuild < 3; rebuild++) {
      const building = await h.lab.createGolden(source, true);
      for (;;) {
        const image = (await h.store.getGolden(building.version))!;
        if (image.status !== 'building') break;
        creations.push(h.lab.createSession());
        // Sparse while the build halts, snapshots and restarts; dense around the switch, so that
        // some session is between its two VMs whenever the DataSources move.
        const dense = image.phase === 'copy-disks' || image.phase === 'switch-datasources';
        await h.clock.sleep(Math.floor(random() * (dense ? 200 : 4_000)));
        if (random() < 0.1) await h.lab.maintainOnce();
      }
      for (let i = 0; i < 5; i++) creations.push(h.lab.createSession()); // a burst right after the switch
      activations.push((await h.store.getGolden(building.version))!);
      await h.clock.sleep(Math.floor(random() * 3_000));
    }
    const ids = (await Promise.all(creations)).map((s) => s.id);
    await h.lab.idle();

    expect(ids.length).toBeGreaterThan(60);
    const all = await pairs(h, ids);
    const versions = all.map(expectOnePair);
    expect(new Set(versions)).toEqual(new Set([1, 2, 3, 4])); // old and new pairs were both handed out

    // Old pair before each switch, new pair after it (1 s either side: the decision takes a few API calls).
    for (const image of activations) {
      expect(image.status).toBe('ready');
      for (const pair of all) {
        const version = pair.run.goldenVersion!;
        if (pair.createdAt < image.readyAt! - S) expect(version, pair.id).toBeLessThan(image.version);
        if (pair.createdAt > image.readyAt! + S) expect(version, pair.id).toBeGreaterThanOrEqual(image.version);
      }
    }

    expectNoVersionCollectedUnderARun(h, h.store.dump().runs);
    await h.clock.sleep(30 * S);
    await h.lab.maintainOnce();
    expect(h.cluster.goldenVersions()).toEqual([4]);
    expect(h.cluster.dataSourceTarget()).toBe(4);
    // 160 creations and 8 switches: CPU-bound, ~1.5 s alone, several times that when turbo runs every package's tests at once on 2 cores.
  }, 30_000);

  it('at microtask granularity: activations interleaved with many concurrent creations never mix a pair', async () => {
    const h = createTestLab({ config: { maxConcurrentSessions: 1000, goldenGraceMs: 10 * 60 * S } });
    await seedGolden(h); // v1 active
    const random = prng(7);
    // Only microtask yields: creations and switches interleave call by call, in one deterministic order.
    const yieldRandomly = async () => {
      const n = Math.floor(random() * 8);
      for (let i = 0; i < n; i++) await Promise.resolve();
    };

    let created = 0;
    const rebuilder = async () => {
      for (let version = 2; version <= 9; version++) {
        // Spread the eight switches over the creations.
        while (created < (version - 1) * 17) await Promise.resolve();
        // What a build does at its end, with the other work free to interleave between each call.
        const disks = h.cluster.seedGoldenVersion(version, { point: false });
        const now = h.clock.now();
        await h.store.insertGoldenBuild({
          version,
          status: 'building',
          phase: 'switch-datasources',
          sourceSessionId: '76c3ac1b',
          k8sVersion: h.config.k8sVersion,
          createdAt: now,
          readyAt: null,
          supersededAt: null,
          certsIssuedAt: now,
          expiresAt: now + h.config.goldenLifetimeMs,
          disks,
          failureReason: null,
        });
        await yieldRandomly();
        await h.cluster.pointGoldenDataSources(version);
        await yieldRandomly();
        await h.store.activateGolden(version, h.clock.now());
        await h.store.updateGolden(version, { phase: 'done' });
        await yieldRandomly();
      }
    };
    const creator = async (n: number) => {
      const made: string[] = [];
      for (let i = 0; i < n; i++) {
        made.push((await h.lab.createSession()).id);
        created++;
        await yieldRandomly();
      }
      return made;
    };

    const [, ...made] = await Promise.all([rebuilder(), creator(40), creator(40), creator(40), creator(40)]);
    await h.lab.idle();

    const ids = made.flat();
    expect(ids).toHaveLength(160);
    const versions = (await pairs(h, ids)).map(expectOnePair);
    expect(new Set(versions).size).toBeGreaterThanOrEqual(6);
    expect(Math.max(...versions)).toBe(9);
    expectNoVersionCollectedUnderARun(h, h.store.dump().runs);

    // Once the grace has passed and nothing clones any more, only the active pair remains.
    await h.clock.sleep(10 * 60 * S);
    await h.lab.maintainOnce();
    expect(h.cluster.goldenVersions()).toEqual([9]);
    expect((await h.store.listGolden(['superseded'])).map((g) => g.version)).toEqual([]);
  });
});
