/**
 * A node agent for tests, in place of a kubelet (there is no container
 * runtime here). It registers a Node, keeps its Lease fresh, and runs the
 * Pods the scheduler binds to it: their volumes (ConfigMap, Secret,
 * projected service-account token with the CA and namespace, downward API,
 * emptyDir, a PersistentVolumeClaim bound to a hostPath PersistentVolume)
 * become folders, bind-mounted at their mount paths in a mount namespace of
 * the pod's own, and the image's /app is this checkout; each container runs
 * as a local process (`cloudtap` is bin/cloudtap, `node` the project's Node)
 * in a network namespace of the pod's own, with the pod's env and args. It
 * reports phase, readiness (the readiness probe's httpGet), restarts, and
 * kills the processes when the Pod goes. It speaks to the apiserver as
 * system:node:<name>, so the Node authorizer and NodeRestriction apply.
 *
 * What it does not do: images (every container runs this checkout), liveness
 * and startup probes, exec/tcp probes, init and sidecar containers, resource
 * limits, runAsUser (processes run as root), token refresh, envFrom, volume
 * types other than the ones above, logs/exec/port-forward for kubectl, and
 * Services (pods reach the apiserver at the node address).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { join, dirname } from 'node:path';
import { ApiClient, type Json } from './api-client.js';
import type { ControlPlane } from './control-plane.js';
import { addPodNetwork, nodeAddress, type PodNetwork } from './network.js';
import { nodeBinary, projectRoot } from '../support/paths.js';
import { keepDir, podScript, type Mount } from './pod-mounts.js';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';

interface Running {
  readonly container: V1Container;
  child?: ChildProcess;
  ready: boolean;
  restarts: number;
  lastExit?: { exitCode: number; finishedAt: string };
  startedAt?: string;
  waiting?: string;
  timer?: NodeJS.Timeout;
}

interface PodRun {
  readonly pod: V1Pod;
  readonly dir: string;
  readonly network: PodNetwork;
  readonly containers: Running[];
  stopping: boolean;
  readonly startTime: string;
}

export class NodeAgent {
  private readonly api: ApiClient;
  private readonly pods = new Map<string, PodRun>();
  private readonly starting = new Set<string>();
  private readonly deletedWhileStarting = new Set<string>();
  private stopWatch?: () => void;
  private heartbeat?: NodeJS.Timeout;
  private probes?: NodeJS.Timeout;
  private readonly apiPort: string;

  constructor(plane: ControlPlane, readonly name: string, private readonly dir: string) {
    this.api = new ApiClient(plane.server, plane.pki.ca.cert, plane.pki.client(`node-${name}`, `system:node:${name}`, 'system:nodes'));
    this.apiPort = new URL(plane.server).port;
  }

  /** mocha --exit may end the process before stop(): no pod process outlives it. */
  private readonly onExit = () => {
    for (const run of this.pods.values()) for (const c of run.containers) c.child?.kill('SIGKILL');
  };

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    process.once('exit', this.onExit);
    await this.register();
    this.heartbeat = setInterval(() => void this.renewLease().catch(() => undefined), 5000);
    this.probes = setInterval(() => void this.probeAll(), 1000);
    this.stopWatch = this.api.watch(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.name}`)}`, (type, object) => {
      void this.onPod(type, object as V1Pod).catch((error: unknown) => console.error(`node agent: pod ${object.metadata && (object.metadata as Json).name}: ${(error as Error).message}`));
    });
  }

  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    this.stopWatch?.();
    clearInterval(this.heartbeat);
    clearInterval(this.probes);
    await Promise.all([...this.pods.values()].map((run) => this.kill(run, 2)));
  }

  /** The processes of a pod's container (a test kills one to see it restarted). */
  processOf(podName: string, container?: string): ChildProcess | undefined {
    const run = [...this.pods.values()].find((r) => r.pod.metadata!.name === podName);
    return (container ? run?.containers.find((c) => c.container.name === container) : run?.containers[0])?.child;
  }

  /** Where a pod's volumes and logs are. */
  podDir(podName: string): string | undefined {
    return [...this.pods.values()].find((r) => r.pod.metadata!.name === podName)?.dir;
  }

  private async register(): Promise<void> {
    const node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: this.name, labels: { 'kubernetes.io/hostname': this.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    };
    const created = await this.api.call('POST', '/api/v1/nodes', node);
    if (created.status !== 201 && created.status !== 409) throw new Error(`registering node ${this.name}: ${created.status} ${created.body}`);
    await this.reportNodeStatus();
    await this.renewLease();
  }

  private async reportNodeStatus(): Promise<void> {
    const now = new Date().toISOString();
    const capacity = { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now });
    await this.api.json('PATCH', `/api/v1/nodes/${this.name}/status`, {
      status: {
        capacity, allocatable: capacity,
        conditions: [condition('Ready', 'True', 'KubeletReady'), condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'), condition('PIDPressure', 'False', 'KubeletHasSufficientPID')],
        addresses: [{ type: 'InternalIP', address: nodeAddress }, { type: 'Hostname', address: this.name }],
        nodeInfo: { kubeletVersion: 'v1.37.2', osImage: 'cloudtap test node agent', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'local://0', kernelVersion: '', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
      },
    }, 'application/merge-patch+json');
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.name}`;
    const spec = { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') };
    const patched = await this.api.call('PATCH', path, { spec }, 'application/merge-patch+json');
    if (patched.status === 404) await this.api.json('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { metadata: { name: this.name, namespace: 'kube-node-lease' }, spec });
  }

  private async onPod(type: string, pod: V1Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    const run = this.pods.get(uid);
    if (type === 'DELETED' || pod.metadata!.deletionTimestamp) {
      if (this.starting.has(uid)) this.deletedWhileStarting.add(uid);
      if (run) await this.kill(run, pod.metadata!.deletionGracePeriodSeconds ?? 30);
      if (type !== 'DELETED') {
        // The kubelet's last word: the pod is gone from this node, the apiserver may forget it.
        const deleted = await this.api.call('DELETE', `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}?gracePeriodSeconds=0`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
        if (deleted.status >= 300 && deleted.status !== 404 && deleted.status !== 409) console.error(`node agent: deleting pod ${pod.metadata!.name}: ${deleted.status} ${deleted.body}`);
      }
      return;
    }
    if (run || this.starting.has(uid) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    this.starting.add(uid);
    try {
      // As a kubelet does: retry while the Node authorizer has not yet learnt that the pod's Secrets and
      // ConfigMaps are this node's to read (its graph follows the bind a moment later).
      for (let attempt = 1; ; attempt++) {
        try {
          await this.startPod(pod);
          break;
        } catch (error) {
          if (attempt >= 20 || this.deletedWhileStarting.has(uid)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      const started = this.pods.get(uid);
      if (started && this.deletedWhileStarting.has(uid)) await this.kill(started, 2);
    } catch (error) {
      console.error(`node agent: pod ${pod.metadata!.name} failed to start: ${(error as Error).message}`);
      await this.patchStatus(pod, { phase: 'Failed', reason: 'NodeAgentError', message: (error as Error).message });
    } finally {
      this.starting.delete(uid);
      this.deletedWhileStarting.delete(uid);
    }
  }

  private async startPod(pod: V1Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    const dir = join(this.dir, 'pods', uid);
    mkdirSync(dir, { recursive: true });
    const volumes = new Map<string, string>();
    for (const volume of pod.spec!.volumes ?? []) volumes.set(volume.name, await this.materialise(pod, volume, join(dir, 'volumes', volume.name)));
    const network = addPodNetwork(uid.replace(/-/g, '').slice(0, 10));
    const run: PodRun = { pod, dir, network, stopping: false, startTime: new Date().toISOString(), containers: [] };
    for (const container of pod.spec!.containers) run.containers.push({ container, ready: false, restarts: 0 });
    this.pods.set(uid, run);
    for (const running of run.containers) this.launch(run, running, volumes);
    await this.report(run);
  }

  private async materialise(pod: V1Pod, volume: V1Volume, dir: string): Promise<string> {
    const namespace = pod.metadata!.namespace!;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const write = (path: string, data: Buffer, mode: number) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), data);
      chmodSync(join(dir, path), mode);
    };
    const items = (data: Record<string, Buffer>, chosen: { key: string; path: string; mode?: number }[] | undefined, mode: number) => {
      for (const { key, path, mode: own } of chosen ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined as number | undefined }))) {
        if (data[key] === undefined) throw new Error(`volume ${volume.name}: key ${key} missing`);
        write(path, data[key], own ?? mode);
      }
    };
    const configMap = async (name: string) => {
      const object = await this.api.json('GET', `/api/v1/namespaces/${namespace}/configmaps/${name}`);
      return Object.fromEntries(Object.entries((object.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v)]));
    };
    const secret = async (name: string) => {
      const object = await this.api.json('GET', `/api/v1/namespaces/${namespace}/secrets/${name}`);
      return Object.fromEntries(Object.entries((object.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    };
    const field = (path: string): string => {
      const meta = pod.metadata!;
      const known: Record<string, string | undefined> = {
        'metadata.name': meta.name, 'metadata.namespace': meta.namespace, 'metadata.uid': meta.uid,
        'spec.nodeName': pod.spec!.nodeName, 'spec.serviceAccountName': pod.spec!.serviceAccountName,
      };
      if (!(path in known)) throw new Error(`fieldRef ${path} is not supported by the node agent`);
      return known[path] ?? '';
    };
    if (volume.emptyDir) return dir;
    if (volume.configMap) {
      items(await configMap(volume.configMap.name!), volume.configMap.items, volume.configMap.defaultMode ?? 0o644);
    } else if (volume.secret) {
      items(await secret(volume.secret.secretName!), volume.secret.items, volume.secret.defaultMode ?? 0o644);
    } else if (volume.downwardAPI) {
      for (const item of volume.downwardAPI.items ?? []) write(item.path, Buffer.from(field(item.fieldRef!.fieldPath)), item.mode ?? volume.downwardAPI.defaultMode ?? 0o644);
    } else if (volume.projected) {
      const mode = volume.projected.defaultMode ?? 0o644;
      for (const source of volume.projected.sources ?? []) {
        if (source.serviceAccountToken) {
          const token = await this.api.json('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${pod.spec!.serviceAccountName}/token`, {
            apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
            spec: {
              audiences: source.serviceAccountToken.audience ? [source.serviceAccountToken.audience] : [],
              expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3607,
              boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: pod.metadata!.uid },
            },
          });
          write(source.serviceAccountToken.path, Buffer.from((token.status as { token: string }).token), mode);
        } else if (source.configMap) {
          items(await configMap(source.configMap.name!), source.configMap.items, mode);
        } else if (source.secret) {
          items(await secret(source.secret.name!), source.secret.items, mode);
        } else if (source.downwardAPI) {
          for (const item of source.downwardAPI.items ?? []) write(item.path, Buffer.from(field(item.fieldRef!.fieldPath)), item.mode ?? mode);
        }
      }
    } else if (volume.persistentVolumeClaim) {
      const claim = await this.api.json('GET', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${volume.persistentVolumeClaim.claimName}`);
      const volumeName = (claim.spec as { volumeName?: string }).volumeName;
      if (!volumeName) throw new Error(`claim ${volume.persistentVolumeClaim.claimName} is not bound`);
      const pv = await this.api.json('GET', `/api/v1/persistentvolumes/${volumeName}`);
      const path = (pv.spec as { hostPath?: { path: string }; local?: { path: string } }).hostPath?.path ?? (pv.spec as { local?: { path: string } }).local?.path;
      if (!path) throw new Error(`volume ${volumeName}: only hostPath and local volumes are supported by the node agent`);
      return path;
    } else {
      throw new Error(`volume ${volume.name}: this kind of volume is not supported by the node agent`);
    }
    return dir;
  }

  private envOf(pod: V1Pod, container: V1Container, address: string): Record<string, string> {
    const env: Record<string, string> = {
      PATH: `${join(projectRoot, 'bin')}:${dirname(nodeBinary)}:/usr/local/bin:/usr/bin:/bin`, HOME: '/tmp', HOSTNAME: pod.metadata!.name!,
      KUBERNETES_SERVICE_HOST: nodeAddress, KUBERNETES_SERVICE_PORT: this.apiPort,
    };
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.fieldRef?.fieldPath;
      if (variable.value !== undefined) env[variable.name] = variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => env[name] ?? all);
      else if (ref === 'status.podIP') env[variable.name] = address;
      else if (ref) env[variable.name] = ({ 'metadata.name': pod.metadata!.name, 'metadata.namespace': pod.metadata!.namespace, 'metadata.uid': pod.metadata!.uid, 'spec.nodeName': pod.spec!.nodeName, 'spec.serviceAccountName': pod.spec!.serviceAccountName } as Record<string, string | undefined>)[ref] ?? '';
      else if (variable.valueFrom) throw new Error(`env ${variable.name}: only value and fieldRef are supported by the node agent`);
    }
    return env;
  }

  private launch(run: PodRun, running: Running, volumes: Map<string, string>): void {
    const { pod, network } = run;
    const container = running.container;
    const mounts: Mount[] = [];
    for (const mount of container.volumeMounts ?? []) {
      const base = volumes.get(mount.name);
      if (base === undefined) throw new Error(`container ${container.name}: no volume ${mount.name}`);
      const source = mount.subPath ? join(base, mount.subPath) : base;
      mkdirSync(source, { recursive: true });
      mounts.push({ source, target: mount.mountPath, readOnly: mount.readOnly ?? false });
    }
    // A mount over a folder that holds the sources (/tmp) goes last, so it hides none of them.
    mounts.sort((a, b) => Number(run.dir.startsWith(`${a.target}/`)) - Number(run.dir.startsWith(`${b.target}/`)));
    const command = [...(container.command ?? ['cloudtap']), ...(container.args ?? [])];
    // The image's /app is this checkout: its entrypoint `cloudtap`, its `node` and its paths.
    const fromImage = (arg: string) => (arg.startsWith('/app/') ? join(projectRoot, arg.slice('/app/'.length)) : arg);
    const program = command[0] === 'node' ? nodeBinary : command[0] === 'cloudtap' ? join(projectRoot, 'bin', 'cloudtap') : fromImage(command[0]!);
    // A volume over a folder that holds the checkout (an emptyDir at /tmp, a CI clone under /tmp) must not hide it.
    const hidden = [projectRoot].filter((path) => mounts.some((mount) => path === mount.target || path.startsWith(`${mount.target}/`)));
    const keep = keepDir(pod, container.name);
    const script = podScript(join(run.dir, 'overlay', container.name), mounts, container.workingDir ?? '/', { dir: keep, paths: hidden });
    const env = this.envOf(pod, container, network.address);
    const log = createWriteStream(join(run.dir, `${container.name}.log`), { flags: 'a' });
    const child = spawn('ip', ['netns', 'exec', network.namespace, 'bash', '-c', script, 'pod', program, ...command.slice(1).map(fromImage)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    running.child = child;
    running.startedAt = new Date().toISOString();
    running.waiting = undefined;
    running.ready = container.readinessProbe === undefined;
    child.once('exit', (code, signal) => {
      running.child = undefined;
      running.ready = false;
      running.lastExit = { exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), finishedAt: new Date().toISOString() };
      if (run.stopping) return;
      const policy = pod.spec!.restartPolicy ?? 'Always';
      if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) return void this.report(run);
      running.restarts++;
      running.waiting = 'CrashLoopBackOff';
      const backoff = Math.min(10_000, 1000 * 2 ** Math.min(running.restarts - 1, 4));
      running.timer = setTimeout(() => {
        if (run.stopping) return;
        this.launch(run, running, volumes);
        void this.report(run);
      }, backoff);
      void this.report(run);
    });
  }

  private async probeAll(): Promise<void> {
    for (const run of this.pods.values()) {
      if (run.stopping) continue;
      let changed = false;
      for (const running of run.containers) {
        const probe = running.container.readinessProbe?.httpGet;
        if (!probe || !running.child) continue;
        const port = typeof probe.port === 'number' ? probe.port
          : running.container.ports?.find((p) => p.name === probe.port)?.containerPort ?? Number(probe.port);
        const ok = await httpOk(run.network.address, port, probe.path ?? '/');
        if (ok !== running.ready) {
          running.ready = ok;
          changed = true;
        }
      }
      if (changed) await this.report(run).catch(() => undefined);
    }
  }

  private async report(run: PodRun): Promise<void> {
    const now = new Date().toISOString();
    const allReady = run.containers.every((c) => c.ready);
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: now, lastProbeTime: null });
    const running = run.containers.some((c) => c.child);
    const exitedAll = run.containers.every((c) => !c.child && c.lastExit && !c.timer);
    const phase = running ? 'Running' : exitedAll ? (run.containers.every((c) => c.lastExit?.exitCode === 0) ? 'Succeeded' : 'Failed') : 'Running';
    await this.patchStatus(run.pod, {
      phase, hostIP: nodeAddress, hostIPs: [{ ip: nodeAddress }], podIP: run.network.address, podIPs: [{ ip: run.network.address }], startTime: run.startTime,
      conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', allReady), condition('Ready', allReady)],
      containerStatuses: run.containers.map((c) => ({
        name: c.container.name, image: c.container.image, imageID: '', containerID: `local://${run.pod.metadata!.uid}/${c.container.name}`,
        ready: c.ready, started: Boolean(c.child), restartCount: c.restarts,
        state: c.child ? { running: { startedAt: c.startedAt } } : c.waiting ? { waiting: { reason: c.waiting } } : { terminated: { exitCode: c.lastExit?.exitCode ?? 0, finishedAt: c.lastExit?.finishedAt } },
        ...(c.lastExit && c.child ? { lastState: { terminated: { exitCode: c.lastExit.exitCode, finishedAt: c.lastExit.finishedAt } } } : {}),
      })),
    });
  }

  private async patchStatus(pod: V1Pod, status: Json): Promise<void> {
    await this.api.call('PATCH', `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}/status`, { metadata: { uid: pod.metadata!.uid }, status }, 'application/merge-patch+json');
  }

  private async kill(run: PodRun, graceSeconds: number): Promise<void> {
    if (run.stopping) return;
    run.stopping = true;
    const exits = run.containers.map((c) => {
      clearTimeout(c.timer);
      const child = c.child;
      if (!child) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), graceSeconds * 1000);
      return exited.finally(() => clearTimeout(hard));
    });
    await Promise.all(exits);
    run.network.remove();
    this.pods.delete(run.pod.metadata!.uid!);
    rmSync(join(run.dir, 'overlay'), { recursive: true, force: true });
    for (const c of run.containers) rmSync(keepDir(run.pod, c.container.name), { recursive: true, force: true });
  }
}

function httpOk(host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, timeout: 1000 }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) >= 200 && (response.statusCode ?? 500) < 400);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
