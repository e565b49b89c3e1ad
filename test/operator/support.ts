/** Helpers shared by the operator's tests: examples, the CRD, a CloudTap factory. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CloudTap, CloudTapSpec } from '../../operator/api/types.js';
import { applyDefaults, type JsonSchema } from '../k8s/schema.js';
import { projectRoot } from '../support/paths.js';

export type Json = Record<string, unknown>;

export const crdPath = join(projectRoot, 'crds', 'cloudtap.io_cloudtaps.yaml');

export function readYamlDocuments(path: string): Json[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((document) => document.toJS() as Json)
    .filter((document) => document !== null);
}

export function loadCrd(): Json {
  return readYamlDocuments(crdPath)[0]!;
}

export function crdSchema(): JsonSchema {
  const versions = (loadCrd().spec as Json).versions as Json[];
  return (versions[0]!.schema as Json).openAPIV3Schema as JsonSchema;
}

export interface Example {
  readonly file: string;
  readonly secret: Json;
  readonly cloudTap: CloudTap;
}

/** Each example file with its Secret and its CloudTap as the API server stores it (defaults applied). */
export function loadExamples(): Example[] {
  const folder = join(projectRoot, 'examples');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const documents = readYamlDocuments(join(folder, file));
      const secret = documents.find((document) => document.kind === 'Secret')!;
      const cloudTap = structuredClone(documents.find((document) => document.kind === 'CloudTap')!);
      applyDefaults(cloudTap, crdSchema());
      const metadata = cloudTap.metadata as Json;
      metadata.uid = `00000000-0000-4000-8000-${String(metadata.name).padEnd(12, '0').slice(0, 12).replace(/[^0-9a-f]/g, '0')}`;
      return { file, secret, cloudTap: cloudTap as unknown as CloudTap };
    });
}

/** The Secret's data as the API returns it: stringData folded into base64 data. */
export function secretData(secret: Json): Record<string, string> {
  const data = { ...((secret.data ?? {}) as Record<string, string>) };
  for (const [key, value] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) {
    data[key] = Buffer.from(value).toString('base64');
  }
  return data;
}

export function cloudTapWith(spec: Partial<CloudTapSpec>, name = 'tap', namespace = 'ns1'): CloudTap {
  return {
    apiVersion: 'cloudtap.io/v1alpha1',
    kind: 'CloudTap',
    metadata: { name, namespace, uid: '11111111-2222-4333-8444-555555555555' },
    spec: {
      source: { provider: 's3', bucket: 'taps', prefix: 'ctap/', region: 'eu-west-1', credentialsSecretRef: { name: 'creds' } },
      targets: [{ name: 'sensor', type: 'vxlan', host: '10.0.0.9', vni: 5 }],
      ...spec,
    },
  };
}
