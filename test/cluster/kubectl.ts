/** kubectl from bin/install-k8s-tools against the shared cluster, as a given kubeconfig's user; never throws. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../support/paths.js';
import type { Cluster } from './shared.js';
import { toolPath } from './tools.js';

const run = promisify(execFile);

export interface KubectlResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export function kubectlAs(cluster: Cluster, kubeconfig: string, ...args: string[]): Promise<KubectlResult> {
  return run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(cluster.plane.dir, 'kube-cache'), ...args], { cwd: projectRoot }).then(
    ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
    (error: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
  );
}
