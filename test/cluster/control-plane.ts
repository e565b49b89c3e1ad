/**
 * A real Kubernetes control plane on this machine: etcd, kube-apiserver
 * (TLS, Node and RBAC authorizers, NodeRestriction and the default admission
 * plugins, service-account issuer and signing keys), kube-controller-manager
 * (every default controller: garbage collector, Deployment, ReplicaSet,
 * service-account token, persistent-volume binder, ...) and kube-scheduler,
 * each on a free port. The apiserver listens on the node address, so the
 * node agent's pods reach it as pods in a cluster do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { freePort } from '../support/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeconfigText, makePki, type ClientCert, type Pki } from './pki.js';
import { addNodeAddress, nodeAddress, removeNodeAddress } from './network.js';
import { toolPath, type ClusterTool } from './tools.js';

export interface ControlPlane {
  /** https://<node address>:<port> */
  readonly server: string;
  readonly dir: string;
  readonly pki: Pki;
  /** A kubeconfig file for a cluster admin (system:masters). */
  readonly adminKubeconfig: string;
  /** A kubeconfig file that impersonates a ServiceAccount (the admin's certificate, `as:` the account). */
  kubeconfigAs(namespace: string, serviceAccount: string): string;
  /** A kubeconfig file for a client certificate of this CA. */
  kubeconfigFor(name: string, user: ClientCert): string;
  /** The apiserver's audit log (JSON lines): every LIST, with the identity that sent it (auditPolicy below). */
  readonly auditLog: string;
  /** GET (or another verb) with the admin's certificate; the status code and body. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export { freePort };

/** Audit every LIST (who listed what), nothing else: enough to tell whose requests re-list, small enough to keep. */
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [list]
  - level: None
`;

/** One audited request, as the apiserver writes it. */
export interface AuditEvent {
  readonly verb: string;
  readonly stage: string;
  readonly requestURI: string;
  readonly user: { readonly username: string };
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string };
  readonly stageTimestamp: string;
}

/** The audit log's events so far (a line the apiserver is still writing is left out). */
export function readAuditLog(path: string): AuditEvent[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // the last line, half written
    }
  }
  return events;
}

interface Component {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

function startComponent(dir: string, tool: ClusterTool, args: readonly string[]): Component {
  const log = join(dir, `${tool}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(toolPath(tool), args, { stdio: ['ignore', fd, fd], cwd: dir });
  closeSync(fd);
  return { name: tool, child, log };
}

function tail(component: Component): string {
  try {
    return readFileSync(component.log, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, components: readonly Component[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const component of components) {
      if (component.child.exitCode !== null) throw new Error(`${component.name} exited (${component.child.exitCode}) before ${what}:\n${tail(component)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms\n${components.map(tail).join('\n')}`);
    await sleep(200);
  }
}

function httpsRequest(url: string, pki: Pki, client: ClientCert, method: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(url, {
      method,
      ca: readFileSync(pki.ca.cert),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
      headers: payload === undefined ? {} : { 'Content-Type': contentType },
      timeout: 10_000,
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end(payload);
  });
}

export async function startControlPlane(): Promise<ControlPlane> {
  addNodeAddress();
  const dir = mkdtempSync(join(tmpdir(), 'cloudtap-cluster-'));
  const components: Component[] = [];
  // mocha --exit may end the process before the root hook: nothing outlives it.
  const onExit = () => {
    for (const component of components) component.child.kill('SIGKILL');
    removeNodeAddress();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    for (const component of components.reverse()) {
      component.child.kill('SIGTERM');
      const exited = new Promise((resolve) => component.child.once('exit', resolve));
      if (component.child.exitCode === null) await Promise.race([exited, sleep(5000)]);
      component.child.kill('SIGKILL');
    }
    removeNodeAddress();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = makePki(dir, [nodeAddress, '127.0.0.1', '10.96.0.1']);
    const admin = pki.client('admin', 'cloudtap-admin', 'system:masters');
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const server = `https://${nodeAddress}:${apiPort}`;
    const kubeconfigFor = (name: string, user: ClientCert | { token: string }, as?: { user: string; groups?: string[] }) => {
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, kubeconfigText(server, pki.ca.cert, user, as), { mode: 0o600 });
      return file;
    };
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const auditLog = join(dir, 'audit.log');
    const auditPolicyFile = join(dir, 'audit-policy.yaml');
    writeFileSync(auditPolicyFile, auditPolicy);
    components.push(startComponent(dir, 'etcd', [
      '--name', 'default', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--log-level', 'warn',
    ]));
    components.push(startComponent(dir, 'kube-apiserver', [
      `--etcd-servers=${etcdUrl}`, `--bind-address=${nodeAddress}`, `--advertise-address=${nodeAddress}`, `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`, `--tls-cert-file=${pki.serving.cert}`, `--tls-private-key-file=${pki.serving.key}`,
      `--client-ca-file=${pki.ca.cert}`, '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`, '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=false', '--profiling=false', '--v=0',
      `--audit-policy-file=${auditPolicyFile}`, `--audit-log-path=${auditLog}`, '--audit-log-format=json', '--audit-log-maxsize=100',
    ]));
    const request = (method: string, path: string, body?: unknown, contentType?: string) => httpsRequest(`${server}${path}`, pki, admin, method, body, contentType);
    await waitUntil('the apiserver is ready', async () => (await request('GET', '/readyz')).status === 200, components, 90_000);
    const adminKubeconfig = kubeconfigFor('admin', admin);
    const kcm = kubeconfigFor('kube-controller-manager', pki.client('kcm', 'system:kube-controller-manager'));
    const scheduler = kubeconfigFor('kube-scheduler', pki.client('scheduler', 'system:kube-scheduler'));
    components.push(startComponent(dir, 'kube-controller-manager', [
      `--kubeconfig=${kcm}`, `--authentication-kubeconfig=${kcm}`, `--authorization-kubeconfig=${kcm}`,
      '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`, `--cert-dir=${join(dir, 'kcm-certs')}`,
      '--leader-elect=false', '--use-service-account-credentials=true', '--controllers=*',
      `--service-account-private-key-file=${pki.serviceAccountKey}`, `--root-ca-file=${pki.ca.cert}`,
      '--cluster-name=cloudtap-test', '--profiling=false', '--v=0',
    ]));
    components.push(startComponent(dir, 'kube-scheduler', [
      `--kubeconfig=${scheduler}`, `--authentication-kubeconfig=${scheduler}`, `--authorization-kubeconfig=${scheduler}`,
      '--bind-address=127.0.0.1', `--secure-port=${schedulerPort}`, `--cert-dir=${join(dir, 'scheduler-certs')}`,
      '--leader-elect=false', '--profiling=false', '--v=0',
    ]));
    // The controllers are working once the default ServiceAccount and the root CA ConfigMap exist.
    await waitUntil('the controller manager made the default ServiceAccount', async () =>
      (await request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200 &&
      (await request('GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt')).status === 200, components, 60_000);
    return {
      server, dir, pki, adminKubeconfig, auditLog, request,
      kubeconfigAs: (namespace, serviceAccount) =>
        kubeconfigFor(`sa-${namespace}-${serviceAccount}`, admin, { user: `system:serviceaccount:${namespace}:${serviceAccount}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] }),
      kubeconfigFor: (name, user) => kubeconfigFor(name, user),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
