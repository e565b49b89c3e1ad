/**
 * What the CRD's schema and CEL rules check, checked again in the operator so
 * that a CloudTap admitted by an older CRD gets a condition that says what to
 * fix instead of a broken Deployment. Each problem names the field.
 */
import type { CloudTapSpec, StoreLocation, Target } from './types.js';

export interface FieldProblem {
  /** The JSON path of the field at fault: `spec.targets[1].vni`. */
  readonly field: string;
  readonly message: string;
}

/** Longest CloudTap name: `<name>-shard-NN-checkpoint` must stay a valid name. */
export const maxNameLength = 40;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const cidr = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const duration = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
/** The apiserver's resource.Quantity syntax: the Deployment would be refused with anything else. */
const quantity = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

export function validateName(name: string): FieldProblem[] {
  if (name.length > maxNameLength || !dnsLabel.test(name)) {
    return [{ field: 'metadata.name', message: `must be a DNS label of at most ${maxNameLength} characters` }];
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
  for (const [side, range] of Object.entries(target.remap ?? {})) {
    if (!cidr.test(String(range))) problems.push({ field: `${path}.remap.${side}`, message: `"${range}" is not a CIDR` });
  }
  return problems;
}

function validateSelection(spec: CloudTapSpec): FieldProblem[] {
  return (spec.selection?.subnets ?? []).flatMap((subnet, index) =>
    cidr.test(subnet) ? [] : [{ field: `spec.selection.subnets[${index}]`, message: `"${subnet}" is not a CIDR` }],
  );
}

function validateSizing(spec: CloudTapSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const shards = spec.sizing?.shards;
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 64)) {
    problems.push({ field: 'spec.sizing.shards', message: 'must be an integer from 1 to 64' });
  }
  for (const kind of ['requests', 'limits'] as const) {
    for (const [resource, value] of Object.entries(spec.sizing?.resources?.[kind] ?? {})) {
      if (!quantity.test(String(value))) {
        problems.push({ field: `spec.sizing.resources.${kind}.${resource}`, message: `"${value}" is not a quantity like 500m, 2 or 1Gi` });
      }
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

/** One line for a condition message or an error. */
export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
}
