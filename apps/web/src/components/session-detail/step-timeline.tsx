'use client';

import { plannedSteps, type Strategy } from '@cks-lab/core';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { elapsedMs } from '~/lib/durations';
import { formatDuration } from '~/lib/format';
import { stepLabel } from '~/lib/labels';
import { STEP_STATUS, type StepState } from '~/lib/status';
import type { SessionDetail, SessionStep } from '~/lib/trpc';

export interface TimelineEntry {
  key: string;
  name: string;
  strategy: Strategy;
  state: StepState;
  startedAt: number | null;
  durationMs: number | null;
  detail: string | null;
}

export interface TimelineGroup {
  strategy: Strategy;
  /** A snapshot attempt that was abandoned for bootstrap. */
  abandoned: boolean;
  entries: TimelineEntry[];
}

type TimelineInput = Pick<SessionDetail, 'steps' | 'strategy' | 'requestedStrategy' | 'runOutcome'>;

/**
 * The recorded steps, then — while the run is still going — the ones it has yet to reach, so the
 * learner sees how far along it is. Consecutive steps of one strategy form a group; after a
 * fallback there are two: the abandoned snapshot attempt and the bootstrap.
 */
export function timelineGroups({ steps, strategy, requestedStrategy, runOutcome }: TimelineInput): TimelineGroup[] {
  const entries: TimelineEntry[] = steps.map((step: SessionStep) => ({
    key: `${step.strategy}:${step.name}`,
    name: step.name,
    strategy: step.strategy,
    state: step.status,
    startedAt: step.startedAt,
    durationMs: step.durationMs,
    detail: step.detail,
  }));

  if (runOutcome === 'running' && strategy) {
    const recorded = new Set(entries.map((entry) => entry.key));
    for (const step of plannedSteps(requestedStrategy ?? strategy, strategy)) {
      const key = `${step.strategy}:${step.name}`;
      if (!recorded.has(key)) entries.push({ key, ...step, state: 'waiting', startedAt: null, durationMs: null, detail: null });
    }
  }

  const groups: TimelineGroup[] = [];
  for (const entry of entries) {
    const last = groups[groups.length - 1];
    if (last?.strategy === entry.strategy) last.entries.push(entry);
    else groups.push({ strategy: entry.strategy, abandoned: false, entries: [entry] });
  }
  const fellBack = requestedStrategy === 'snapshot' && strategy === 'bootstrap';
  for (const group of groups) group.abandoned = fellBack && group.strategy === 'snapshot';
  return groups;
}

/**
 * A step's time: its duration once done, else the time since it started, ticking with `now` at
 * `rate` (the durations' timing: modelled time runs faster on the simulator).
 */
export function entryTime(entry: TimelineEntry, now: number | null, rate = 1): string {
  if (entry.durationMs !== null) return formatDuration(entry.durationMs);
  if (entry.startedAt !== null && now !== null) return formatDuration(elapsedMs({ rate }, entry.startedAt, now));
  return '';
}

const GROUP_TITLES: Record<Strategy, { normal: string; abandoned: string }> = {
  snapshot: { normal: 'Snapshot: clone from the golden image', abandoned: 'Snapshot attempt (abandoned)' },
  bootstrap: { normal: 'Bootstrap: build with kubeadm', abandoned: 'Bootstrap' },
};

export function StepTimeline({ detail, now, rate = 1 }: { detail: TimelineInput; now: number | null; rate?: number }) {
  const groups = timelineGroups(detail);
  if (groups.length === 0) return <p className="muted">No steps have started yet.</p>;
  return (
    <div className="timeline">
      {groups.map((group, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a run's groups only grow at the end (snapshot, then bootstrap).
        <div className="timeline-group" key={`${group.strategy}-${index}`}>
          <h3 className="timeline-group-title">
            {group.abandoned ? GROUP_TITLES[group.strategy].abandoned : GROUP_TITLES[group.strategy].normal}
          </h3>
          <ol className="timeline-steps">
            {group.entries.map((entry) => (
              <li key={entry.key} className={`timeline-step timeline-step-${entry.state}`}>
                <span className="timeline-step-name">{stepLabel(entry.name)}</span>
                <span className="timeline-step-state">
                  <StatusIndicator {...STEP_STATUS[entry.state]} />
                  <span className="timeline-step-time num">{entryTime(entry, now, rate)}</span>
                </span>
                {entry.detail && (
                  <p className={entry.state === 'failed' ? 'timeline-step-detail is-error' : 'timeline-step-detail'}>{entry.detail}</p>
                )}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </div>
  );
}
