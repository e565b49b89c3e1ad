/**
 * One Deployment per shard: replicas 1 and Recreate, so two pods of a shard
 * never run at once (each shard also holds a Lease). The pod template carries
 * a hash of everything the pod reads, so a changed config or Secret rolls it.
 */
import type { V1Container, V1Deployment, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { defaultStitcher } from '../api/defaults.js';
import { LIVENESS_PATH, READINESS_PATH, SHARD_ARGS, SHARD_COMMAND, SHARD_ENV } from '../../contract/names.js';
import {
  childMetadata,
  configDir,
  configHashAnnotation,
  metricsPort,
  names,
  selectorOf,
  shardLabel,
} from './names.js';
import { credentialsFile, keysCredentialsDir, sourceCredentialsDir } from './config.js';
import { containerSecurityContext, restrictedPod } from './security.js';
import { caBundleMount, caBundleVolume, extraEnv, mergedMetadata, podSpecFields } from './pod-template.js';
import { sizeFor } from './sizing.js';
import { assignmentOf } from '../../contract/shard-assignment.js';
import { pcapMountRoot } from './urls.js';

export interface DeploymentInputs {
  readonly shard: number;
  /** Hash of the config text and the referenced Secret contents (see inputs.ts). */
  readonly configHash: string;
  /** The image in effect (operator/specs/image.ts). */
  readonly image: string;
}

/** For Prometheus setups that discover pods by annotation (the chart's PodMonitor selects by label instead). */
const scrapeAnnotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' };

export function buildShardDeployment(cloudTap: CloudTap, inputs: DeploymentInputs): V1Deployment {
  const name = cloudTap.metadata.name;
  const shardLabels = { ...selectorOf(cloudTap), [shardLabel]: String(inputs.shard) };
  const podTemplate = cloudTap.spec.stitcher?.podTemplate;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(cloudTap, names.deployment(name, inputs.shard), { [shardLabel]: String(inputs.shard) }),
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: { ...shardLabels } },
      template: {
        metadata: {
          labels: mergedMetadata(podTemplate?.labels, shardLabels),
          annotations: mergedMetadata(podTemplate?.annotations, { [configHashAnnotation]: inputs.configHash, ...scrapeAnnotations }),
        },
        spec: {
          ...podSpecFields(podTemplate),
          serviceAccountName: names.serviceAccount(name),
          securityContext: structuredClone(restrictedPod),
          terminationGracePeriodSeconds: 30,
          ...(cloudTap.spec.stitcher?.nodeSelector ? { nodeSelector: { ...cloudTap.spec.stitcher.nodeSelector } } : {}),
          containers: [stitcherContainer(cloudTap, inputs.shard, inputs.image)],
          volumes: volumesOf(cloudTap),
        },
      },
    },
  };
}

function stitcherContainer(cloudTap: CloudTap, shard: number, image: string): V1Container {
  const stitcher = defaultStitcher(cloudTap.spec.stitcher);
  const size = sizeFor(cloudTap.spec.sizing);
  const probe = (path: string) => ({ httpGet: { path, port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 2 });
  return {
    name: 'stitcher',
    image,
    imagePullPolicy: stitcher.imagePullPolicy,
    command: [...SHARD_COMMAND],
    args: [...SHARD_ARGS],
    env: [
      { name: SHARD_ENV.index, value: String(shard) },
      // Its modulus, not the count: a scale changes the template only of the shards whose gateways move.
      { name: SHARD_ENV.modulus, value: String(assignmentOf(shard, size.shards).modulus) },
      { name: SHARD_ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: SHARD_ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      // The shard names its CloudTap as the owner of the checkpoint and Lease it creates (garbage collection).
      ...(cloudTap.metadata.uid ? [{ name: SHARD_ENV.ownerUid, value: cloudTap.metadata.uid }] : []),
      ...extraEnv(cloudTap.spec.stitcher?.podTemplate),
    ],
    ports: [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }],
    livenessProbe: { ...probe(LIVENESS_PATH), failureThreshold: 3 },
    readinessProbe: probe(READINESS_PATH),
    resources: structuredClone(size.resources),
    securityContext: containerSecurityContext(stitcher.securityContext),
    volumeMounts: volumeMountsOf(cloudTap, shard),
  };
}

function volumesOf(cloudTap: CloudTap): V1Volume[] {
  const { spec } = cloudTap;
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: names.config(cloudTap.metadata.name) } },
    { name: 'tmp', emptyDir: {} },
    ...caBundleVolume(spec.stitcher?.podTemplate),
  ];
  const secretVolume = (name: string, ref: { name: string; key?: string }): V1Volume => ({
    name,
    secret: { secretName: ref.name, items: [{ key: ref.key ?? credentialsFile, path: credentialsFile }], defaultMode: 0o440 },
  });
  if (spec.source.credentialsSecretRef) volumes.push(secretVolume('source-credentials', spec.source.credentialsSecretRef));
  if (spec.keys?.credentialsSecretRef) volumes.push(secretVolume('keys-credentials', spec.keys.credentialsSecretRef));
  for (const target of spec.targets) {
    if (target.type === 'pcapVolume' && target.claimName) {
      volumes.push({ name: `pcap-${target.name}`, persistentVolumeClaim: { claimName: target.claimName } });
    }
  }
  return volumes;
}

function volumeMountsOf(cloudTap: CloudTap, shard: number): V1VolumeMount[] {
  const { spec } = cloudTap;
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: configDir, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...caBundleMount(spec.stitcher?.podTemplate),
  ];
  if (spec.source.credentialsSecretRef) {
    mounts.push({ name: 'source-credentials', mountPath: sourceCredentialsDir, readOnly: true });
  }
  if (spec.keys?.credentialsSecretRef) {
    mounts.push({ name: 'keys-credentials', mountPath: keysCredentialsDir, readOnly: true });
  }
  for (const target of spec.targets) {
    if (target.type === 'pcapVolume' && target.claimName) {
      // Each shard writes into its own folder of the claim, so shards never share a file.
      mounts.push({ name: `pcap-${target.name}`, mountPath: `${pcapMountRoot}/${target.name}`, subPath: `shard-${shard}` });
    }
  }
  return mounts;
}
