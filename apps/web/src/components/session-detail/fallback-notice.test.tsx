import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FallbackNotice } from './fallback-notice';

describe('FallbackNotice', () => {
  it('explains a failed snapshot attempt as an automatic switch, with what went wrong', () => {
    const html = renderToStaticMarkup(
      <FallbackNotice
        requestedStrategy="snapshot"
        fallbackReason="snapshot-path-failed"
        fallbackReasonText="Cloning from the golden image failed"
        fallbackDetail="DataVolume cks-worker-node-user-session-76c3ac1b-root: clone failed"
        runOutcome="running"
      />,
    );
    expect(html).toContain('Switched to bootstrap: cloning from the golden image failed');
    expect(html).toContain('is being built from scratch');
    expect(html).toContain('What went wrong: DataVolume cks-worker-node-user-session-76c3ac1b-root: clone failed');
    expect(html).toContain('callout-warning');
  });

  it('explains a bootstrap chosen at the start as information, with what an admin can do', () => {
    const html = renderToStaticMarkup(
      <FallbackNotice
        requestedStrategy="bootstrap"
        fallbackReason="no-golden-image"
        fallbackReasonText="No golden image exists yet"
        fallbackDetail={null}
        runOutcome="succeeded"
      />,
    );
    expect(html).toContain('Built from scratch (bootstrap): no golden image exists yet');
    expect(html).toContain('took the longer bootstrap path');
    expect(html).toContain('An admin can create a golden image');
    expect(html).toContain('callout-info');
  });

  it('falls back to the reason code when the text is missing, and shows nothing without a fallback', () => {
    const coded = renderToStaticMarkup(
      <FallbackNotice
        requestedStrategy="bootstrap"
        fallbackReason="golden-expired"
        fallbackReasonText={null}
        fallbackDetail={null}
        runOutcome="running"
      />,
    );
    expect(coded).toContain('golden-expired');
    const none = renderToStaticMarkup(
      <FallbackNotice
        requestedStrategy="snapshot"
        fallbackReason={null}
        fallbackReasonText={null}
        fallbackDetail={null}
        runOutcome="running"
      />,
    );
    expect(none).toBe('');
  });
});
