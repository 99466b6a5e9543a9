import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SessionStep } from '~/lib/trpc';
import { entryTime, StepTimeline, timelineGroups } from './step-timeline';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

function step(
  strategy: SessionStep['strategy'],
  name: SessionStep['name'],
  startOffsetMs: number,
  durationMs: number | null,
  status?: SessionStep['status'],
): SessionStep {
  return {
    name,
    strategy,
    status: status ?? (durationMs === null ? 'running' : 'succeeded'),
    startedAt: T0 + startOffsetMs,
    endedAt: durationMs === null ? null : T0 + startOffsetMs + durationMs,
    durationMs,
    detail: null,
  };
}

describe('timelineGroups', () => {
  it('shows the steps still ahead while a run is in progress', () => {
    const groups = timelineGroups({
      steps: [step('snapshot', 'prepare-namespace', 0, 400), step('snapshot', 'create-vms-from-golden', 400, null)],
      strategy: 'snapshot',
      requestedStrategy: 'snapshot',
      runOutcome: 'running',
    });
    expect(groups).toHaveLength(1);
    expect(groups[0]?.entries.map((e) => [e.name, e.state])).toEqual([
      ['prepare-namespace', 'succeeded'],
      ['create-vms-from-golden', 'running'],
      ['wait-disks-cloned', 'waiting'],
      ['wait-vms-running', 'waiting'],
      ['wait-cluster-ready', 'waiting'],
    ]);
  });

  it('splits a fallback into the abandoned snapshot attempt and the bootstrap', () => {
    const groups = timelineGroups({
      steps: [
        step('snapshot', 'prepare-namespace', 0, 400),
        step('snapshot', 'create-vms-from-golden', 400, 200),
        { ...step('snapshot', 'wait-disks-cloned', 600, 3000, 'failed'), detail: 'clone of cks-control-plane-golden-v1 failed' },
        step('snapshot', 'remove-failed-attempt', 3600, 500),
        step('bootstrap', 'prepare-namespace', 4100, null),
      ],
      strategy: 'bootstrap',
      requestedStrategy: 'snapshot',
      runOutcome: 'running',
    });
    expect(groups.map((g) => [g.strategy, g.abandoned])).toEqual([
      ['snapshot', true],
      ['bootstrap', false],
    ]);
    expect(groups[0]?.entries.map((e) => e.name)).toContain('remove-failed-attempt');
    expect(groups[1]?.entries.map((e) => e.state)).toEqual(['running', 'waiting', 'waiting', 'waiting', 'waiting']);
  });

  it('adds nothing ahead once the run has ended', () => {
    const groups = timelineGroups({
      steps: [step('bootstrap', 'prepare-namespace', 0, 400), { ...step('bootstrap', 'create-control-plane', 400, 100, 'failed') }],
      strategy: 'bootstrap',
      requestedStrategy: 'bootstrap',
      runOutcome: 'failed',
    });
    expect(groups[0]?.entries).toHaveLength(2);
  });
});

describe('entryTime', () => {
  it('shows a finished step’s duration and a running step’s elapsed time', () => {
    const [done, running] = timelineGroups({
      steps: [step('snapshot', 'prepare-namespace', 0, 1_500), step('snapshot', 'create-vms-from-golden', 1_500, null)],
      strategy: 'snapshot',
      requestedStrategy: 'snapshot',
      runOutcome: 'running',
    })[0]!.entries;
    expect(entryTime(done!, null)).toBe('1.5s');
    expect(entryTime(running!, T0 + 1_500 + 42_000)).toBe('42s');
    expect(entryTime(running!, null)).toBe('');
  });
});

describe('StepTimeline', () => {
  it('names each step in plain words with its state in text and a failure’s detail', () => {
    const html = renderToStaticMarkup(
      <StepTimeline
        now={T0 + 10_000}
        detail={{
          steps: [
            step('snapshot', 'prepare-namespace', 0, 400),
            { ...step('snapshot', 'wait-disks-cloned', 400, 3_000, 'failed'), detail: 'deadline exceeded' },
          ],
          strategy: 'bootstrap',
          requestedStrategy: 'snapshot',
          runOutcome: 'running',
        }}
      />,
    );
    expect(html).toContain('Snapshot attempt (abandoned)');
    expect(html).toContain('Prepare the namespace, network and access rules');
    expect(html).toContain('Done');
    expect(html).toContain('Failed');
    expect(html).toContain('deadline exceeded');
    expect(html).toContain('Install Kubernetes on the control plane (kubeadm init)');
    expect(html).toContain('Waiting');
    expect(html.match(/<ol/g)).toHaveLength(2);
  });

  it('says so when nothing has started', () => {
    const html = renderToStaticMarkup(
      <StepTimeline now={null} detail={{ steps: [], strategy: null, requestedStrategy: null, runOutcome: null }} />,
    );
    expect(html).toContain('No steps have started yet.');
  });
});
