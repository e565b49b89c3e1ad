/**
 * Where the real Kubernetes parts are: the symlinks bin/install-k8s-tools
 * leaves in .build/k8s-tools/ (built from their Go modules at pinned versions).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';

export type ClusterTool = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'helm';

export const clusterToolsDir = process.env.CLOUDTAP_K8S_TOOLS ?? join(projectRoot, '.build', 'k8s-tools');

export function toolPath(tool: ClusterTool): string {
  return join(clusterToolsDir, tool);
}

/** Every part is built; else the message a skipping suite prints. */
export function missingClusterTools(): string | undefined {
  const tools: ClusterTool[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'helm'];
  const missing = tools.filter((tool) => !existsSync(toolPath(tool)));
  return missing.length === 0 ? undefined : `${missing.join(', ')} not built: run bin/install-k8s-tools`;
}
