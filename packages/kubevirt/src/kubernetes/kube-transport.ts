import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { DomainError, errorMessage } from '@cks-lab/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { httpError, networkError } from './kube-errors';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** What the caller is doing, e.g. "create VirtualMachine ns/name": the start of every error message. */
  operation: string;
}

export interface KubeStream {
  response: IncomingMessage;
  /** Destroying it ends the stream. */
  request: ClientRequest;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * HTTPS to the API server with the credentials of a client-node KubeConfig. client-node 1.x is used
 * for what it does well — loading kubeconfig or in-cluster config and producing fresh credentials
 * (token files, exec plugins, client certificates) — and requests are plain node:https, so that the
 * wire format is ours: the exact Content-Type, query parameters and error bodies. Connections are
 * kept alive in one agent (client-node builds a new agent, hence a TLS handshake, per request).
 */
export class KubeTransport {
  readonly server: string;
  private requests = 0;
  private pool: { tlsKey: string; agent: https.Agent } | null = null;
  private readonly proxied: boolean;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new DomainError(`the kubeconfig has no cluster for its current context "${kc.getCurrentContext()}"`);
    if (cluster.skipTLSVerify) {
      throw new DomainError(
        `the kubeconfig disables TLS verification for ${cluster.server} (insecure-skip-tls-verify); cks-lab only talks to an API server whose certificate it can verify: give the cluster's CA (certificate-authority-data) instead`,
      );
    }
    if (!cluster.server.startsWith('https://')) throw new DomainError(`the API server address ${cluster.server} is not https://`);
    this.server = cluster.server.replace(/\/+$/, '');
    this.proxied = Boolean(cluster.proxyUrl);
  }

  /** Every HTTP request made, watches included. */
  get requestCount(): number {
    return this.requests;
  }

  /** A request whose answer is JSON; throws the mapped error for anything but 2xx. */
  async json<T>(req: KubeRequest): Promise<T> {
    const { response } = await this.send(req);
    const text = await readText(response).catch((error: unknown) => {
      throw networkError(req.operation, this.server, error);
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw httpError(req.operation, status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A streaming GET (a watch): resolves once the server answered 200, else throws the mapped error. */
  async stream(req: KubeRequest): Promise<KubeStream> {
    const sent = await this.send(req);
    const status = sent.response.statusCode ?? 0;
    if (status !== 200) {
      const text = await readText(sent.response).catch(() => '');
      throw httpError(req.operation, status, text);
    }
    // The request timeout guarded the start; a stream is idle for long stretches by design.
    sent.request.setTimeout(0);
    return sent;
  }

  /** Drops pooled connections (and with them any open watch). */
  close(): void {
    this.pool?.agent.destroy();
    this.pool = null;
  }

  private async send(req: KubeRequest): Promise<KubeStream> {
    this.requests += 1;
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const options: https.RequestOptions = { method: req.method, headers: { Accept: 'application/json' } };
    try {
      // Per request, so rotated service-account tokens and expiring exec credentials stay fresh.
      await this.kc.applyToHTTPSOptions(options);
    } catch (error) {
      throw new DomainError(`${req.operation}: no credentials from the kubeconfig (${errorMessage(error)})`, { cause: error });
    }
    const headers = options.headers as Record<string, string>;
    if (payload !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (!this.proxied) options.agent = this.agentFor(options);
    return new Promise<KubeStream>((resolve, reject) => {
      const request = https.request(url, options, (response) => resolve({ response, request }));
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      request.on('error', (error) => reject(networkError(req.operation, this.server, error)));
      request.end(payload);
    });
  }

  /** One keep-alive agent, rebuilt only when the TLS material (CA, client certificate) changes. */
  private agentFor(options: https.RequestOptions): https.Agent {
    const tls = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      servername: options.servername,
    };
    const tlsKey = Object.values(tls)
      .map((value) => String(value ?? ''))
      .join('\0');
    if (this.pool?.tlsKey !== tlsKey) {
      this.pool?.agent.destroy();
      this.pool = { tlsKey, agent: new https.Agent({ ...tls, keepAlive: true, rejectUnauthorized: true }) };
    }
    return this.pool.agent;
  }
}

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => resolve(text));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(Object.assign(new Error('connection closed mid-answer'), { code: 'ECONNRESET' }));
    });
  });
}
