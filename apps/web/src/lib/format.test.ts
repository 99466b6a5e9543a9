import { describe, expect, it } from 'vitest';
import {
  describeCountdown,
  formatBytes,
  formatCountdown,
  formatDuration,
  formatPercent,
  formatTimeScale,
  lowerFirst,
  parseProgress,
} from './format';

describe('formatDuration', () => {
  it('shows tenths below ten seconds, where simulated steps live', () => {
    expect(formatDuration(0)).toBe('0.0s');
    expect(formatDuration(740)).toBe('0.7s');
    expect(formatDuration(9_940)).toBe('9.9s');
  });

  it('shows whole seconds, then minutes and seconds, then hours and minutes', () => {
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(72_000)).toBe('1m 12s');
    expect(formatDuration(473_400)).toBe('7m 53s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
  });

  it('renders unknown and negative (clock skew) values safely', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(-500)).toBe('0.0s');
  });
});

describe('countdowns', () => {
  it('reads like a clock and says when it is over', () => {
    expect(formatCountdown(59 * 60_000 + 7_000)).toBe('59:07');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
    expect(formatCountdown(0)).toBe('expired');
  });

  it('has a spoken form for screen readers', () => {
    expect(describeCountdown(59 * 60_000 + 7_000)).toBe('59 min left');
    expect(describeCountdown(3_723_000)).toBe('1 h 2 min left');
    expect(describeCountdown(30_000)).toBe('less than a minute left');
    expect(describeCountdown(-1)).toBe('expired');
  });
});

describe('other formatters', () => {
  it('formats ratios as percentages', () => {
    expect(formatPercent(0.853)).toBe('85%');
    expect(formatPercent(0.9512, 1)).toBe('95.1%');
    expect(formatPercent(null)).toBe('—');
  });

  it('says how much faster simulated time runs', () => {
    expect(formatTimeScale(0.05)).toBe('time ×20 faster');
    expect(formatTimeScale(0.01)).toBe('time ×100 faster');
    expect(formatTimeScale(0.3)).toBe('time ×3.3 faster');
    expect(formatTimeScale(1)).toBe('real time');
    expect(formatTimeScale(2)).toBe('time ×2 slower');
  });

  it('formats disk sizes in binary units', () => {
    expect(formatBytes(10 * 1024 ** 3)).toBe('10 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(null)).toBe('—');
  });

  it('reads CDI progress only when it is a percentage', () => {
    expect(parseProgress('45.20%')).toBe(45.2);
    expect(parseProgress('100.0%')).toBe(100);
    expect(parseProgress('N/A')).toBeNull();
    expect(parseProgress(null)).toBeNull();
  });

  it('lowers only the first letter, keeping names like Kubernetes', () => {
    expect(lowerFirst('Install Kubernetes on the control plane')).toBe('install Kubernetes on the control plane');
  });
});
