'use client';

import type { SessionStatus } from '@cks-lab/core';
import { useEffect } from 'react';

const STATE_WORDS: Record<SessionStatus, string> = {
  pending: '◌ Provisioning',
  provisioning: '◌ Provisioning',
  running: '● Ready',
  terminating: 'Ending',
  terminated: 'Ended',
  failed: '✕ Failed',
};

/** The tab says where the session stands, so a learner waiting in another tab sees when it is ready. */
export function tabTitle(id: string, status: SessionStatus): string {
  return `${STATE_WORDS[status]} — session ${id} · cks-lab`;
}

export function useTabTitle(id: string, status: SessionStatus | null): void {
  useEffect(() => {
    if (status) document.title = tabTitle(id, status);
  }, [id, status]);
}
