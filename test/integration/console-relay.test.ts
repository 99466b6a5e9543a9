/**
 * The terminal's cluster side against a real kube-apiserver: cks-lab's console client (the one the
 * relay uses in LAB_CLUSTER=kube mode, TLS verified, cks-lab's own credentials) opens
 * `virtualmachineinstances/{name}/console` on the API server, whose aggregation layer proxies the
 * WebSocket to the APIService `v1.subresources.kubevirt.io`, as it does to virt-api in a real
 * cluster. Behind that APIService is a stand-in for virt-api's console endpoint speaking KubeVirt
 * v1.8.0's protocol (pkg/virt-api/rest/console.go: refusals as HTTP statuses before the upgrade;
 * staging/src/kubevirt.io/client-go/kubevirt/typed/core/v1/websocket.go: subprotocol
 * `plain.kubevirt.io`, binary frames of raw bytes).
 *
 * How the aggregator reaches the stand-in: with `--enable-aggregator-routing` it resolves the
 * APIService's Service to an endpoint (EndpointSlices of the Service) instead of the cluster IP.
 * Endpoints may not be loopback addresses, so the stand-in listens on this machine's own
 * non-loopback address, with a serving certificate from the cluster CA (the APIService's caBundle).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { networkInterfaces } from 'node:os';
import { names, PreconditionError } from '@cks-lab/core';
import { type ConsoleServer, KubevirtConsole, startConsoleServer } from '@cks-lab/kubevirt';
import type { KubeConfig } from '@cks-lab/kubevirt/kubernetes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { installDeployRbac } from './support/deploy-manifests';
import { describeWithApiServer, eventually, kubeConfigOf, startApiServer } from './support/test-cluster';

const SESSION = '5e55c0de';
const NAMESPACE = names.namespace(SESSION);

function hostAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return null;
}

describeWithApiServer('console relay through the API server aggregation layer', () => {
  let cluster: TestCluster;
  let standIn: ConsoleServer;
  let kc: KubeConfig;
  const received: string[] = [];
  const ip = hostAddress();
  const apply = async (method: string, path: string, body: unknown) => {
    const response = await cluster.request(method, path, body);
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
  };

  beforeAll(async () => {
    if (!ip) throw new Error('no non-loopback IPv4 address on this machine: the aggregator cannot be routed to a loopback endpoint');
    cluster = await startApiServer();
    kc = kubeConfigOf(cluster);
    const serving = await cluster.issueCertificate('virt-api-stand-in', {
      commonName: 'virt-api.kubevirt.svc',
      usage: 'server',
      ips: [ip],
      dnsNames: ['virt-api.kubevirt.svc'],
    });
    const https = createServer({ cert: readFileSync(serving.cert), key: readFileSync(serving.key) }, (request, response) => {
      // The aggregator's availability check reads the group version's discovery document.
      if (request.url === '/apis/subresources.kubevirt.io/v1') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: 'subresources.kubevirt.io/v1',
            resources: [{ name: 'virtualmachineinstances/console', namespaced: true, kind: 'VirtualMachineInstance', verbs: ['get'] }],
          }),
        );
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => https.listen(0, ip, resolve));
    standIn = await startConsoleServer(
      async (namespace, vmi) => {
        if (vmi === names.vm('worker', SESSION)) return { refuse: { status: 400, message: 'VMI is not running' } };
        if (namespace !== NAMESPACE || vmi !== names.vm('control-plane', SESSION))
          return { refuse: { status: 404, message: `virtualmachineinstance.kubevirt.io "${vmi}" not found` } };
        return {
          serve: (io) => {
            io.send('stand-in console\r\n# ');
            io.onInput((data) => {
              received.push(data.toString('utf8'));
              io.send(Buffer.concat([Buffer.from('echo:'), data]));
            });
          },
        };
      },
      { server: https },
    );
    const port = (https.address() as { port: number }).port;

    await apply('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubevirt' } });
    await apply('POST', '/api/v1/namespaces/kubevirt/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'virt-api', namespace: 'kubevirt' },
      spec: { ports: [{ name: 'https', port: 443, targetPort: port }] },
    });
    await apply('POST', '/apis/discovery.k8s.io/v1/namespaces/kubevirt/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'virt-api-stand-in', namespace: 'kubevirt', labels: { 'kubernetes.io/service-name': 'virt-api' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    });
    await apply('POST', '/api/v1/namespaces/kubevirt/endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'virt-api', namespace: 'kubevirt' },
      subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port }] }],
    });
    await apply('POST', '/apis/apiregistration.k8s.io/v1/apiservices', {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1.subresources.kubevirt.io' },
      spec: {
        group: 'subresources.kubevirt.io',
        version: 'v1',
        groupPriorityMinimum: 1000,
        versionPriority: 15,
        service: { namespace: 'kubevirt', name: 'virt-api', port: 443 },
        caBundle: Buffer.from(cluster.caPem).toString('base64'),
      },
    });
    await eventually('the APIService is Available', 60_000, async () => {
      const response = await cluster.request('GET', '/apis/apiregistration.k8s.io/v1/apiservices/v1.subresources.kubevirt.io');
      const available = (response.body?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available');
      return available?.status === 'True' ? true : null;
    });
  }, 180_000);

  afterAll(async () => {
    await standIn?.close();
    await cluster?.stop();
  });

  it('opens the console through the API server, TLS verified, and carries raw bytes both ways in binary frames', async () => {
    const consoles = new KubevirtConsole({ server: cluster.server, applyCredentials: (options) => kc.applyToHTTPSOptions(options) });
    const connection = await consoles.openConsole(SESSION, 'control-plane');
    let output = '';
    connection.onData((data) => (output += Buffer.from(data).toString('utf8')));
    await eventually('the banner', 10_000, async () => output.includes('stand-in console'));
    connection.write(Buffer.from('hostname\r\u00e9'));
    await eventually('the echo', 10_000, async () => output.includes('echo:hostname\r\u00e9'));
    expect(received.join('')).toBe('hostname\r\u00e9');
    const closed = new Promise<string>((resolve) => connection.onClose(resolve));
    connection.close();
    expect(await closed).toMatch(/closed/);
  });

  it("works with the deploy/ ServiceAccount's least-privilege RBAC (get on virtualmachineinstances/console), and not without it", async () => {
    const deployKc = kubeConfigOf(cluster, await installDeployRbac(cluster));
    const consoles = new KubevirtConsole({ server: cluster.server, applyCredentials: (options) => deployKc.applyToHTTPSOptions(options) });
    const connection = await consoles.openConsole(SESSION, 'control-plane');
    connection.close();

    await apply('POST', '/api/v1/namespaces/default/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nobody', namespace: 'default' },
    });
    const nobodyKc = kubeConfigOf(cluster, await cluster.createServiceAccountToken('default', 'nobody'));
    const refused = new KubevirtConsole({ server: cluster.server, applyCredentials: (options) => nobodyKc.applyToHTTPSOptions(options) });
    await expect(refused.openConsole(SESSION, 'control-plane')).rejects.toThrow(/HTTP 403/);
  });

  it("passes virt-api's refusals on in its own words: not running, not found", async () => {
    const consoles = new KubevirtConsole({ server: cluster.server, applyCredentials: (options) => kc.applyToHTTPSOptions(options) });
    await expect(consoles.openConsole(SESSION, 'worker')).rejects.toThrow(PreconditionError);
    await expect(consoles.openConsole(SESSION, 'worker')).rejects.toThrow(/VMI is not running/);
    await expect(consoles.openConsole('0000beef', 'control-plane')).rejects.toThrow(/not found/);
  });

  it("verifies the API server's certificate: a client that trusts another CA is refused", async () => {
    const untrusting = new KubevirtConsole({
      server: cluster.server,
      applyCredentials: async (options) => {
        await kc.applyToHTTPSOptions(options);
        // client-node puts the kubeconfig's CA both on the options and on an agent made from them.
        options.ca = undefined;
        options.agent = undefined;
      },
    });
    await expect(untrusting.openConsole(SESSION, 'control-plane')).rejects.toThrow(/certificate/);
  });
});
