/**
 * What the CRD's schema and CEL rules check, checked again in the operator so
 * that a CloudTap admitted by an older CRD gets a condition that says what to
 * fix instead of a broken Deployment. Each problem names the field.
 */
import type { CloudTapSpec, StoreLocation, StoreSource, Target } from './types.js';
import { MAX_SHARDS } from '../../contract/limits.js';
import { isCidr, isDns1035Label, isDns1123Subdomain, isEndpointUrl, isHost, isQuantity } from './formats.js';

export interface FieldProblem {
  /** The JSON path of the field at fault: `spec.targets[1].vni`. */
  readonly field: string;
  readonly message: string;
}

/** Longest CloudTap name: `<name>-shard-NN-checkpoint` must stay a valid name. */
export const maxNameLength = 40;
const duration = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

export function validateName(name: string): FieldProblem[] {
  // DNS-1035, not 1123: the name also names the metrics Service, which must start with a letter.
  if (name.length > maxNameLength || !isDns1035Label(name)) {
    return [{ field: 'metadata.name', message: `must start with a lower-case letter, hold only lower-case letters, digits and '-', and be at most ${maxNameLength} characters; create the CloudTap again under such a name` }];
  }
  return [];
}

export function validateSpec(spec: CloudTapSpec): FieldProblem[] {
  return [
    ...validateLocation(spec.source, 'spec.source'),
    ...(spec.keys ? validateLocation(spec.keys, 'spec.keys') : []),
    ...validateTargets(spec.targets ?? []),
    ...validateSelection(spec),
    ...validateSizing(spec),
    ...validateDurations(spec),
    ...validateSecurityContext(spec),
  ];
}

function validateLocation(location: StoreLocation, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!location.bucket) problems.push({ field: `${path}.bucket`, message: 'is required' });
  if (location.provider === 'azure' && !location.account) {
    problems.push({ field: `${path}.account`, message: 'is required for provider azure' });
  }
  if (location.provider !== 'azure' && location.account !== undefined) {
    problems.push({ field: `${path}.account`, message: 'is only for provider azure' });
  }
  if (location.provider !== 's3' && location.region !== undefined) {
    problems.push({ field: `${path}.region`, message: 'is only for provider s3' });
  }
  if (location.endpoint !== undefined && !isEndpointUrl(location.endpoint)) {
    problems.push({ field: `${path}.endpoint`, message: `"${location.endpoint}" is not an http or https URL with a host, like https://minio.example:9000` });
  }
  const secretName = (location as StoreSource).credentialsSecretRef?.name;
  if (secretName !== undefined && !isDns1123Subdomain(secretName)) {
    problems.push({ field: `${path}.credentialsSecretRef.name`, message: `"${secretName}" is not a Secret name` });
  }
  return problems;
}

function validateTargets(targets: readonly Target[]): FieldProblem[] {
  if (targets.length === 0) return [{ field: 'spec.targets', message: 'needs at least one target' }];
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  targets.forEach((target, index) => {
    const path = `spec.targets[${index}]`;
    if (seen.has(target.name)) problems.push({ field: `${path}.name`, message: `duplicate target name "${target.name}"` });
    seen.add(target.name);
    problems.push(...validateTarget(target, path));
  });
  return problems;
}

function validateTarget(target: Target, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const network = target.type === 'vxlan' || target.type === 'geneve' || target.type === 'pcapOverIp';
  if (network && !target.host) problems.push({ field: `${path}.host`, message: `is required for type ${target.type}` });
  if (target.host && !isHost(target.host)) {
    problems.push({ field: `${path}.host`, message: `"${target.host}" is not an IP address or a DNS name like zeek.monitoring.svc` });
  }
  if (target.port !== undefined && !(Number.isInteger(target.port) && target.port >= 1 && target.port <= 65535)) {
    problems.push({ field: `${path}.port`, message: `${target.port} is not a port from 1 to 65535` });
  }
  if ((target.type === 'vxlan' || target.type === 'geneve') && target.vni === undefined) {
    problems.push({ field: `${path}.vni`, message: `is required for type ${target.type}` });
  }
  if (target.type === 'pcapVolume' && !target.claimName) {
    problems.push({ field: `${path}.claimName`, message: 'is required for type pcapVolume' });
  }
  if (target.type === 'pcapBucket') {
    if (!target.store) problems.push({ field: `${path}.store`, message: 'is required for type pcapBucket' });
    else problems.push(...validateLocation(target.store, `${path}.store`));
  }
  if (!network && target.rate !== undefined) {
    problems.push({ field: `${path}.rate`, message: `applies only to vxlan, geneve and pcapOverIp targets, not ${target.type}` });
  }
  if (target.rotateSize !== undefined && !/^[0-9]+[KMG]?$/.test(target.rotateSize)) {
    problems.push({ field: `${path}.rotateSize`, message: `"${target.rotateSize}" is not a size like 100M` });
  }
  for (const [side, range] of Object.entries(target.remap ?? {})) {
    if (!isCidr(String(range))) problems.push({ field: `${path}.remap.${side}`, message: `"${range}" is not a CIDR like 10.0.0.0/8` });
  }
  return problems;
}

function validateSelection(spec: CloudTapSpec): FieldProblem[] {
  const subnets = (spec.selection?.subnets ?? []).flatMap((subnet, index) =>
    isCidr(subnet) ? [] : [{ field: `spec.selection.subnets[${index}]`, message: `"${subnet}" is not a CIDR like 10.0.0.0/8` }],
  );
  const ports = (spec.selection?.ports ?? []).flatMap((port, index) =>
    Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [{ field: `spec.selection.ports[${index}]`, message: `${port} is not a port from 1 to 65535` }],
  );
  return [...subnets, ...ports];
}

function validateSizing(spec: CloudTapSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const shards = spec.sizing?.shards;
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)) {
    problems.push({ field: 'spec.sizing.shards', message: `must be an integer from 1 to ${MAX_SHARDS}` });
  }
  for (const kind of ['requests', 'limits'] as const) {
    for (const [resource, value] of Object.entries(spec.sizing?.resources?.[kind] ?? {})) {
      if (!isQuantity(value)) problems.push({ field: `spec.sizing.resources.${kind}.${resource}`, message: `"${value}" is not a quantity like 500m, 2, 512Mi or 1Gi` });
    }
  }
  return problems;
}

function validateDurations(spec: CloudTapSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of ['pollInterval', 'keyWait'] as const) {
    const value = spec.stitcher?.[field];
    if (value !== undefined && !duration.test(value)) {
      problems.push({ field: `spec.stitcher.${field}`, message: `"${value}" is not a duration like 10s or 1m30s` });
    }
  }
  return problems;
}

/** The hardening a CloudTap may not lower (the CRD's CEL says the same). */
function validateSecurityContext(spec: CloudTapSpec): FieldProblem[] {
  const context = spec.stitcher?.securityContext;
  if (!context) return [];
  const path = 'spec.stitcher.securityContext';
  const problems: FieldProblem[] = [];
  if (context.privileged === true) problems.push({ field: `${path}.privileged`, message: 'must not be true (stitchers never run privileged)' });
  if (context.runAsUser === 0) problems.push({ field: `${path}.runAsUser`, message: 'must not be 0 (root); remove it to run as the image\'s user 10001' });
  if (context.runAsNonRoot === false) problems.push({ field: `${path}.runAsNonRoot`, message: 'must not be false' });
  if (context.allowPrivilegeEscalation === true) problems.push({ field: `${path}.allowPrivilegeEscalation`, message: 'must not be true' });
  if (context.readOnlyRootFilesystem === false) problems.push({ field: `${path}.readOnlyRootFilesystem`, message: 'must not be false' });
  if ((context.capabilities?.add ?? []).length > 0) problems.push({ field: `${path}.capabilities.add`, message: 'must be empty (stitchers need no capability)' });
  if (context.seccompProfile?.type === 'Unconfined') problems.push({ field: `${path}.seccompProfile.type`, message: 'must not be Unconfined' });
  return problems;
}

/** One line for a condition message or an error. */
export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
}
