'use client';

import { guestIdentity, ROLES, type Role } from '@cks-lab/core';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import type { SessionDetail } from '~/lib/trpc';

type TerminalState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; reason: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'ended' }
  | { kind: 'signed-out' };

/** Close codes of server/console-relay.ts. */
const CLOSE_UNAVAILABLE = 4409;
const CLOSE_ENDED = 4410;
const CLOSE_SIGNED_OUT = 4401;

/**
 * A root shell on each of the session's VMs: their serial consoles, relayed by the server. The
 * terminal only exists while the session runs; before and after, it says why there is none.
 */
export function SessionTerminal({ detail }: { detail: Pick<SessionDetail, 'id' | 'status' | 'simulated'> }) {
  const [role, setRole] = useState<Role>('control-plane');
  if (detail.status === 'pending' || detail.status === 'provisioning') {
    return <p className="terminal-note">The terminal opens when the session is running: its VMs are still being prepared.</p>;
  }
  if (detail.status !== 'running') {
    return (
      <p className="terminal-note">
        The session has ended{detail.status === 'failed' ? ' (it failed)' : ''}: its VMs are gone, and so is the terminal.
      </p>
    );
  }
  return (
    <div className="terminal">
      <div className="terminal-tabs" role="tablist" aria-label="Lab machines">
        {ROLES.map((r) => (
          <button key={r} type="button" role="tab" aria-selected={r === role} className="terminal-tab" onClick={() => setRole(r)}>
            {guestIdentity[r].hostname}
          </button>
        ))}
      </div>
      {/* One console at a time: switching tabs re-attaches, and the server replays that console's screen. */}
      <ConsoleTerminal key={role} sessionId={detail.id} role={role} />
      <p className="terminal-help">
        The VM&apos;s serial console, logged in as root{detail.simulated ? ' — simulated: no VM runs, a few commands are answered' : ''}.
        Copy: select, then Ctrl+Shift+C. Paste: Ctrl+Shift+V (or Ctrl+V). The terminal size is set with <code>stty</code> at a prompt when
        it changes.
      </p>
    </div>
  );
}

function ConsoleTerminal({ sessionId, role }: { sessionId: string; role: Role }) {
  const host = guestIdentity[role].hostname;
  const container = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<TerminalState>({ kind: 'connecting' });

  useEffect(() => {
    let disposed = false;
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let resizeTimer: ReturnType<typeof setTimeout> | null = null;
    let attempts = 0;
    let cleanup: (() => void) | null = null;
    const encoder = new TextEncoder();
    // The size the console was last told, per console, so a reload does not tell it again.
    const sizeKey = `cks-lab.console-size.${sessionId}.${host}`;

    // xterm.js touches the DOM when it loads: imported here, in the browser only.
    void Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]).then(([{ Terminal }, { FitAddon }]) => {
      if (disposed || !container.current) return;
      const term = new Terminal({
        cursorBlink: true,
        scrollback: 5000,
        fontSize: 14,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(container.current);
      fit.fit();
      term.focus();

      const send = (text: string) => {
        if (socket?.readyState === WebSocket.OPEN) socket.send(encoder.encode(text));
      };
      term.onData(send);
      term.attachCustomKeyEventHandler((event) => {
        if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
        // The Clipboard API exists only on secure origins (https, localhost); elsewhere the
        // browser's own copy and paste (context menu, Ctrl+V) still work.
        const clipboard = window.isSecureContext ? navigator.clipboard : undefined;
        if (event.code === 'KeyC' && clipboard) {
          const selection = term.getSelection();
          if (selection) void clipboard.writeText(selection);
          return false;
        }
        if (event.code === 'KeyV' && clipboard) {
          void clipboard.readText().then(
            (text) => term.paste(text),
            () => {},
          );
          return false;
        }
        return true;
      });

      // A serial console has no resize message: the shell is told with stty, only at a prompt
      // (typed into a running program it would be input to that program) and only when it changed.
      const tellSize = () => {
        const size = `${term.rows}x${term.cols}`;
        if (sessionStorage.getItem(sizeKey) === size) return;
        const buffer = term.buffer.active;
        const line = buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? '';
        if (!/[#$] ?$/.test(line)) return;
        sessionStorage.setItem(sizeKey, size);
        // A leading space keeps it out of bash's history (Ubuntu's HISTCONTROL=ignoreboth).
        send(` stty rows ${term.rows} cols ${term.cols}\r`);
      };
      term.onResize(() => {
        if (resizeTimer) clearTimeout(resizeTimer);
        resizeTimer = setTimeout(tellSize, 500);
      });
      const observer = new ResizeObserver(() => fit.fit());
      observer.observe(container.current);

      const connect = () => {
        const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
        const ws = new WebSocket(`${scheme}://${location.host}/api/console/${sessionId}/${host}`);
        ws.binaryType = 'arraybuffer';
        socket = ws;
        let replayed = false;
        ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
          if (typeof event.data === 'string') {
            const status = JSON.parse(event.data) as { state: string; message?: string };
            if (status.state === 'connected') {
              attempts = 0;
              setState({ kind: 'connected' });
              setTimeout(tellSize, 300);
            }
            return;
          }
          // The server replays the console's recent output first: it replaces what is on screen.
          if (!replayed) {
            replayed = true;
            term.reset();
          }
          term.write(new Uint8Array(event.data));
        };
        ws.onclose = (event) => {
          if (disposed || socket !== ws) return;
          socket = null;
          if (event.code === CLOSE_ENDED) return setState({ kind: 'ended' });
          if (event.code === CLOSE_SIGNED_OUT) return setState({ kind: 'signed-out' });
          const reason = event.reason || (event.code === 1006 ? 'the connection to the server dropped' : `closed (${event.code})`);
          if (event.code === CLOSE_UNAVAILABLE) setState({ kind: 'unavailable', reason });
          else setState({ kind: 'reconnecting', reason });
          attempts++;
          retry = setTimeout(connect, Math.min(10_000, event.code === CLOSE_UNAVAILABLE ? 5_000 : 500 * 2 ** Math.min(attempts, 5)));
        };
      };
      connect();
      cleanup = () => {
        observer.disconnect();
        term.dispose();
      };
    });

    return () => {
      disposed = true;
      if (retry) clearTimeout(retry);
      if (resizeTimer) clearTimeout(resizeTimer);
      socket?.close(1000);
      cleanup?.();
    };
  }, [sessionId, host]);

  return (
    <div className="terminal-body" role="tabpanel" aria-label={`${host} terminal`}>
      <TerminalStatus state={state} host={host} />
      <div ref={container} className="terminal-screen" data-host={host} data-state={state.kind} />
    </div>
  );
}

function TerminalStatus({ state, host }: { state: TerminalState; host: string }) {
  const text = {
    connecting: `Connecting to ${host}…`,
    connected: null,
    reconnecting: `Reconnecting to ${host}… (${'reason' in state ? state.reason : ''})`,
    unavailable: `${host}'s console is not available: ${'reason' in state ? state.reason : ''}. Trying again every few seconds.`,
    ended: 'The session has ended: its VMs are gone, and so is the terminal.',
    'signed-out': 'Signed out: sign in again to use the terminal.',
  }[state.kind];
  if (!text) return null;
  return (
    <p className={`terminal-status terminal-status-${state.kind}`} role="status">
      {text}
    </p>
  );
}
