/** A headless Service over all shards' metrics ports, for Prometheus to discover. */
import type { V1Service } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { childMetadata, metricsPort, names, selectorOf } from './names.js';

export function buildMetricsService(cloudTap: CloudTap): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cloudTap, names.metricsService(cloudTap.metadata.name)),
    spec: {
      clusterIP: 'None',
      selector: selectorOf(cloudTap),
      ports: [{ name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP' }],
    },
  };
}
