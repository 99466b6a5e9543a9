import { TransientError } from '@cks-lab/core';
import type { KubeObject, WatchEvent, WatchHandle } from '../object-api';
import { httpError, type KubeStatus, networkError } from './kube-errors';
import type { KubeTransport } from './kube-transport';

export interface WatchStreamOptions<T extends KubeObject> {
  transport: KubeTransport;
  path: string;
  query: Record<string, string | undefined>;
  operation: string;
  /**
   * Client-side deadline of the whole stream. The server ends a watch at its `timeoutSeconds`; one
   * still open well after that sits on a dead connection (a vanished server sends no FIN), so it is
   * ended here and the caller re-lists.
   */
  maxLifetimeMs: number;
  onEvent: (event: WatchEvent<T>) => void;
  onClose: (error?: unknown) => void;
}

/**
 * One watch request, read as newline-delimited JSON events. Resolves once the server accepted the
 * watch (rejects with the mapped error otherwise, and `onClose` is then not called). After that,
 * `onClose` is called exactly once when the stream ends for any reason: the server's timeout
 * (no error), an ERROR event such as 410 Gone, a lost connection or a dead server (with the error).
 * It is not called after `stop()`, which is the caller ending the stream itself.
 */
export async function openWatchStream<T extends KubeObject>(options: WatchStreamOptions<T>): Promise<WatchHandle> {
  const { transport, operation } = options;
  const { response, request } = await transport.stream({ method: 'GET', path: options.path, query: options.query, operation });
  let ended = false;
  let buffer = '';

  const end = (notify: boolean, error?: unknown) => {
    if (ended) return;
    ended = true;
    clearTimeout(lifetime);
    request.destroy();
    if (notify) options.onClose(error);
  };
  const lifetime = setTimeout(
    () => end(true, new TransientError(`${operation}: no end of the watch from the server in time; the connection seems dead`)),
    options.maxLifetimeMs,
  );

  const handleLine = (line: string) => {
    let event: { type?: string; object?: unknown };
    try {
      event = JSON.parse(line);
    } catch {
      return end(true, new TransientError(`${operation}: unreadable watch event ${JSON.stringify(line.slice(0, 200))}`));
    }
    if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
      options.onEvent({ type: event.type, object: event.object as T });
    } else if (event.type === 'ERROR') {
      const status = (event.object ?? {}) as KubeStatus;
      end(true, httpError(operation, status.code ?? 500, status));
    }
    // BOOKMARK only advances the resourceVersion; callers re-list after every end anyway.
  };

  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0 && !ended; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        handleLine(line);
      } catch (error) {
        end(true, error);
      }
    }
  });
  response.on('end', () => end(true));
  response.on('error', (error) => end(true, networkError(operation, transport.server, error)));
  response.on('close', () => {
    if (!response.complete) end(true, new TransientError(`${operation}: the API server closed the connection mid-watch`));
  });
  request.on('error', (error) => end(true, networkError(operation, transport.server, error)));

  return { stop: () => end(false) };
}
