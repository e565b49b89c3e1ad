/** Client settings for the test Kubernetes API server, and a kubeconfig file for processes. */
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import type { TestApiServer } from './server.js';

export function kubeConfigFor(server: TestApiServer): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'test', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace: 'default' }],
    currentContext: 'test',
  });
  return config;
}

/** A kubeconfig file, for a stitcher process run with KUBECONFIG pointing at it. */
export function writeKubeConfigFile(server: TestApiServer, path: string): void {
  writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]\n`
    + 'users: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: t, user: u, namespace: default}}]\ncurrent-context: c\n');
}
