import { errorMessage } from './errors';
import type { Clock, RunStore } from './ports';
import { retryUntil } from './retry';
import type { Step, StepName, Strategy } from './types';

/**
 * Executes the named steps of one run as recorded, resumable units: a step that already succeeded
 * is skipped, a step interrupted by a crash is continued under its original record, and every
 * step gets its own deadline.
 */
export class StepRunner {
  private steps: Step[] = [];

  constructor(
    private readonly runId: string,
    private readonly store: RunStore,
    private readonly clock: Clock,
    private readonly retryBackoffMs: number,
    private readonly onChange: () => void,
    private readonly signal?: AbortSignal,
  ) {}

  async load(): Promise<void> {
    this.steps = await this.store.stepsOfRun(this.runId);
  }

  succeeded(strategy: Strategy, name: StepName): boolean {
    return this.steps.some((s) => s.strategy === strategy && s.name === name && s.outcome === 'succeeded');
  }

  async run<T>(
    strategy: Strategy,
    name: StepName,
    timeoutMs: number,
    work: (deadlineAt: number) => Promise<T | undefined>,
    detail?: (result: T | undefined) => string | null,
  ): Promise<void> {
    if (this.succeeded(strategy, name)) return;
    this.signal?.throwIfAborted();
    let step = this.steps.find((s) => s.strategy === strategy && s.name === name && s.outcome === 'running');
    if (!step) {
      step = {
        runId: this.runId,
        seq: this.steps.reduce((max, s) => Math.max(max, s.seq), 0) + 1,
        strategy,
        name,
        startedAt: this.clock.now(),
        endedAt: null,
        outcome: 'running',
        detail: null,
      };
      await this.store.startStep(step);
      this.steps.push(step);
      this.onChange();
    }
    // A resumed step keeps its start time but gets a fresh deadline: the crash was not its fault.
    const deadlineAt = this.clock.now() + timeoutMs;
    try {
      const result = await retryUntil(this.clock, deadlineAt, name, this.retryBackoffMs, work);
      await this.finish(step, 'succeeded', detail?.(result) ?? null);
    } catch (error) {
      await this.finish(step, 'failed', errorMessage(error));
      throw error;
    }
  }

  private async finish(step: Step, outcome: Step['outcome'], detail: string | null): Promise<void> {
    step.endedAt = this.clock.now();
    step.outcome = outcome;
    step.detail = detail;
    await this.store.finishStep(step.runId, step.seq, { endedAt: step.endedAt, outcome, detail });
    this.onChange();
  }
}
