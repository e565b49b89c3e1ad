/**
 * The stitcher's config file (the CLI's `--config`) and the ConfigMap that
 * carries it. Keys are the ones the CLI reads; see docs/operator.md.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { CloudTap, Selection } from '../api/types.js';
import { defaultStitcher, keysOf } from '../api/defaults.js';
import { childMetadata, configKey, metricsPort, names } from './names.js';
import { outputUrl, storeUrl } from './urls.js';
import { sizeFor, stitcherBudget } from './sizing.js';
import { configMapCheckpointUrl } from '../../contract/names.js';
import type { OperatorStitcherConfig } from '../../contract/stitcher-config.js';

export const sourceCredentialsDir = '/var/run/cloudtap/source';
export const keysCredentialsDir = '/var/run/cloudtap/keys';
export const credentialsFile = 'credentials.json';

/** The file's schema is the contract's (contract/stitcher-config.ts), which the stitcher checks. */
export type StitcherConfig = OperatorStitcherConfig;

export function stitcherConfig(cloudTap: CloudTap): StitcherConfig {
  const { spec } = cloudTap;
  const stitcher = defaultStitcher(spec.stitcher);
  const keys = keysOf(spec);
  const keysCredentials = keysCredentialsPath(cloudTap);
  const budget = stitcherBudget(sizeFor(spec.sizing));
  return {
    source: storeUrl(spec.source),
    ...(spec.keys ? { keys: storeUrl(keys) } : {}),
    ...(spec.source.credentialsSecretRef ? { credentials: `${sourceCredentialsDir}/${credentialsFile}` } : {}),
    ...(keysCredentials ? { keysCredentials } : {}),
    outputs: spec.targets.map(outputUrl),
    ...(hasSelection(spec.selection) ? { select: spec.selection } : {}),
    pollInterval: stitcher.pollInterval,
    keyWait: stitcher.keyWait,
    logLevel: stitcher.logLevel,
    checkpoint: configMapCheckpointUrl(cloudTap.metadata.namespace, cloudTap.metadata.name),
    metricsPort,
    ...(budget !== undefined ? { maxBuffer: budget } : {}),
  };
}

/** Keys have their own credentials only when `spec.keys` names its own Secret. */
export function keysCredentialsPath(cloudTap: CloudTap): string | undefined {
  return cloudTap.spec.keys?.credentialsSecretRef ? `${keysCredentialsDir}/${credentialsFile}` : undefined;
}

function hasSelection(selection: Selection | undefined): selection is Selection {
  return Boolean(selection?.users?.length || selection?.ports?.length || selection?.subnets?.length);
}

/** The config as the file holds it: stable key order, so its hash is stable. */
export function configText(cloudTap: CloudTap): string {
  return `${JSON.stringify(stitcherConfig(cloudTap), null, 2)}\n`;
}

export function buildConfigMap(cloudTap: CloudTap): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cloudTap, names.config(cloudTap.metadata.name)),
    data: { [configKey]: configText(cloudTap) },
  };
}
