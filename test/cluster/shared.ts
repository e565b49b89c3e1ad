/**
 * One control plane and one node per mocha run, started by the first suite
 * that asks and stopped by the root hook in hooks.ts (or, if mocha exits
 * first, by the process's exit handler), so suites share its start-up cost.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { NodeAgent } from './node-agent.js';
import { kubectlAs } from './kubectl.js';
import { missingClusterTools } from './tools.js';

export interface Cluster {
  readonly plane: ControlPlane;
  readonly node: NodeAgent;
}

let shared: Promise<Cluster> | undefined;

/** Why the cluster cannot run here (tools not built, no root for namespaces), else undefined. */
export function clusterUnavailable(): string | undefined {
  const missing = missingClusterTools();
  if (missing) return missing;
  if (process.getuid?.() !== 0) return 'the node agent needs root (network and mount namespaces)';
  try {
    execFileSync('unshare', ['--mount', 'true'], { stdio: 'ignore' });
  } catch {
    return 'mount namespaces are not permitted here';
  }
  return undefined;
}

export function sharedCluster(): Promise<Cluster> {
  shared ??= (async () => {
    const plane = await startControlPlane();
    const node = new NodeAgent(plane, 'node-1', join(plane.dir, 'node-1'));
    try {
      await node.start();
    } catch (error) {
      await plane.stop();
      throw error;
    }
    return { plane, node };
  })();
  return shared;
}

/**
 * A suite's before hook: skips the suite, saying why, where no cluster can run,
 * else joins the shared one (starting it may take minutes).
 */
export async function joinCluster(context: Mocha.Context): Promise<Cluster> {
  const why = clusterUnavailable();
  if (why) {
    console.log(`      skipping the cluster tests: ${why}`);
    context.skip();
  }
  context.timeout(240_000);
  return sharedCluster();
}

/** The chart's CRD applied as `admin` and established, so a suite can make CloudTaps. */
export async function installCrd(admin: (...args: string[]) => Promise<unknown>): Promise<void> {
  await admin('apply', '--server-side', '--force-conflicts', '-f', 'crds/cloudtap.io_cloudtaps.yaml');
  await admin('wait', '--for=condition=Established', 'crd/cloudtaps.cloudtap.io', '--timeout=30s');
}

/** joinCluster, then the CRD installed and `namespace` made as the admin: a suite's own corner of the cluster. */
export async function joinWithNamespace(context: Mocha.Context, namespace: string): Promise<Cluster> {
  const cluster = await joinCluster(context);
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);
  await installCrd(admin);
  await admin('create', 'namespace', namespace);
  return cluster;
}

export async function stopSharedCluster(): Promise<void> {
  if (!shared) return;
  const cluster = await shared.catch(() => undefined);
  shared = undefined;
  if (!cluster) return;
  await cluster.node.stop();
  await cluster.plane.stop();
}
