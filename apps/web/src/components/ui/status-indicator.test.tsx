import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { GOLDEN_STATUS, phaseTone, SESSION_STATUS, STEP_STATUS } from '~/lib/status';
import { StatusIndicator } from './status-indicator';

describe('StatusIndicator', () => {
  it('always shows the state in words, with the symbol hidden from screen readers', () => {
    const html = renderToStaticMarkup(<StatusIndicator tone="danger" label="Failed" />);
    expect(html).toContain('<span class="status-label">Failed</span>');
    expect(html).toMatch(/<span class="status-symbol" aria-hidden="true">✕<\/span>/);
    expect(html).toContain('data-tone="danger"');
  });

  it('adds detail such as copy progress after the label', () => {
    const html = renderToStaticMarkup(<StatusIndicator tone="progress" label="CloneInProgress" detail="45%" />);
    expect(html).toContain('CloneInProgress');
    expect(html).toContain('<span class="status-detail">45%</span>');
  });

  it('gives every session, step and golden state its own words', () => {
    const labels = [SESSION_STATUS, STEP_STATUS, GOLDEN_STATUS].map((table) => Object.values(table).map((s) => s.label));
    for (const group of labels) expect(new Set(group).size).toBe(group.length);
    expect(renderToStaticMarkup(<StatusIndicator {...SESSION_STATUS.running} />)).toContain('Running');
  });
});

describe('phaseTone', () => {
  it('classifies open-ended Kubernetes phases', () => {
    expect(phaseTone('Running')).toBe('success');
    expect(phaseTone('Succeeded')).toBe('success');
    expect(phaseTone('Bound')).toBe('success');
    expect(phaseTone('CloneInProgress 45%')).toBe('progress');
    expect(phaseTone('Scheduling')).toBe('progress');
    expect(phaseTone('Failed')).toBe('danger');
    expect(phaseTone('ErrorUnschedulable')).toBe('danger');
    expect(phaseTone('Missing')).toBe('danger');
    expect(phaseTone('Stopped')).toBe('neutral');
  });
});
