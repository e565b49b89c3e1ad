/**
 * The checks kube-apiserver makes on the built-in kinds the operator writes,
 * the ones a builder could get wrong: a Deployment's selector must match its
 * pod labels and may not change, containers need names and images, owner
 * references need uid and name, labels must be valid.
 */
import type { StatusCause } from './errors.js';

type Json = Record<string, unknown>;

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function validateBuiltin(kind: string, object: Json, old: Json | undefined): StatusCause[] {
  const causes = validateMetadata(object.metadata as Json);
  if (kind === 'Deployment') causes.push(...validateDeployment(object, old));
  return causes;
}

function validateMetadata(metadata: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries((metadata.labels ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' || value.length > 63 || !labelValue.test(value)) {
      causes.push({ reason: 'FieldValueInvalid', field: `metadata.labels`, message: `Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (key ${key})` });
    }
  }
  ((metadata.ownerReferences ?? []) as Json[]).forEach((ref, index) => {
    for (const field of ['apiVersion', 'kind', 'name', 'uid']) {
      if (!ref[field]) causes.push({ reason: 'FieldValueRequired', field: `metadata.ownerReferences[${index}].${field}`, message: 'Required value' });
    }
  });
  return causes;
}

function validateDeployment(object: Json, old: Json | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = (object.spec ?? {}) as Json;
  const matchLabels = ((spec.selector as Json | undefined)?.matchLabels ?? {}) as Record<string, string>;
  const template = (spec.template ?? {}) as Json;
  const podLabels = (((template.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>);
  if (Object.keys(matchLabels).length === 0) {
    causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
  } else if (Object.entries(matchLabels).some(([key, value]) => podLabels[key] !== value)) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(podLabels)}: \`selector\` does not match template \`labels\`` });
  }
  if (old && JSON.stringify((old.spec as Json | undefined)?.selector) !== JSON.stringify(spec.selector)) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable` });
  }
  const containers = (((template.spec as Json | undefined)?.containers ?? []) as Json[]);
  if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' });
  containers.forEach((container, index) => {
    for (const field of ['name', 'image']) {
      if (!container[field]) causes.push({ reason: 'FieldValueRequired', field: `spec.template.spec.containers[${index}].${field}`, message: 'Required value' });
    }
  });
  const strategy = (spec.strategy as Json | undefined)?.type;
  if (strategy === 'Recreate' && (spec.strategy as Json).rollingUpdate !== undefined) {
    causes.push({ reason: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', message: 'Forbidden: may not be specified when strategy `type` is \'Recreate\'' });
  }
  return causes;
}
