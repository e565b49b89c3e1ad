/**
 * The structural-schema handling of a real API server for custom resources:
 * prune unknown fields, apply defaults, then validate types, enums, bounds,
 * patterns, required fields, list-map keys and CEL rules (see cel.ts).
 */
import type { StatusCause } from './errors.js';
import { compileRule } from './cel.js';

export interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks that every CEL rule in the schema has an equivalent. @throws Error naming the rule */
export function checkRules(schema: JsonSchema): void {
  for (const rule of schema['x-kubernetes-validations'] ?? []) compileRule(rule.rule);
  for (const child of Object.values(schema.properties ?? {})) checkRules(child);
  if (isObject(schema.additionalProperties)) checkRules(schema.additionalProperties as JsonSchema);
  if (schema.items) checkRules(schema.items);
}

/**
 * Removes fields the schema does not know, in place. The root keeps apiVersion, kind and metadata.
 * @returns the paths removed, like `spec.foo`, for strict field validation
 */
export function prune(value: unknown, schema: JsonSchema, path = ''): string[] {
  const removed: string[] = [];
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, index) => removed.push(...prune(item, schema.items!, `${path}[${index}]`)));
    return removed;
  }
  if (!isObject(value) || schema['x-kubernetes-preserve-unknown-fields']) return removed;
  for (const key of Object.keys(value)) {
    if (!path && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const childPath = path ? `${path}.${key}` : key;
    const child = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
    if (child) removed.push(...prune(value[key], child as JsonSchema, childPath));
    else if (schema.additionalProperties !== true) {
      delete value[key];
      removed.push(childPath);
    }
  }
  return removed;
}

/** Sets schema defaults on absent fields, in place, outside in (a defaulted {} gets its own defaults). */
export function applyDefaults(value: unknown, schema: JsonSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined && child.default !== undefined) value[key] = structuredClone(child.default);
    if (value[key] !== undefined) applyDefaults(value[key], child);
  }
  if (isObject(schema.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties as JsonSchema);
    }
  }
}

/** Every way `value` breaks `schema`, as causes naming the field. */
export function validate(value: unknown, schema: JsonSchema, old: unknown, path = ''): StatusCause[] {
  const causes: StatusCause[] = [];
  const typeCause = checkType(value, schema, path);
  if (typeCause) return [typeCause];
  causes.push(...checkScalar(value, schema, path));
  if (Array.isArray(value)) causes.push(...checkArray(value, schema, old, path));
  if (isObject(value)) causes.push(...checkObject(value, schema, old, path));
  if (causes.length === 0) causes.push(...checkCelRules(value, schema, old, path));
  return causes;
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function checkType(value: unknown, schema: JsonSchema, path: string): StatusCause | undefined {
  const actual = describeType(value);
  if (schema['x-kubernetes-int-or-string']) {
    return actual === 'integer' || actual === 'string' ? undefined : invalidType(path, actual, 'integer or string');
  }
  if (!schema.type) return undefined;
  const ok = schema.type === 'number' ? actual === 'number' || actual === 'integer' : actual === schema.type;
  return ok ? undefined : invalidType(path, actual, schema.type);
}

function invalidType(path: string, actual: string, expected: string): StatusCause {
  return {
    reason: 'FieldValueTypeInvalid',
    field: path,
    message: `Invalid value: "${actual}": ${path} in body must be of type ${expected}: "${actual}"`,
  };
}

function checkScalar(value: unknown, schema: JsonSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const invalid = (message: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    field: path,
    message: `Invalid value: ${JSON.stringify(value)}: ${path} in body ${message}`,
  });
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: path,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`,
    });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) causes.push(invalid(`should be greater than or equal to ${schema.minimum}`));
    if (schema.maximum !== undefined && value > schema.maximum) causes.push(invalid(`should be less than or equal to ${schema.maximum}`));
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) causes.push(invalid(`should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      causes.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) causes.push(invalid(`should match '${schema.pattern}'`));
  }
  return causes;
}

function checkArray(value: unknown[], schema: JsonSchema, old: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items` });
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    causes.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
  }
  const keys = schema['x-kubernetes-list-type'] === 'map' ? (schema['x-kubernetes-list-map-keys'] ?? []) : undefined;
  const seen = new Set<string>();
  value.forEach((item, index) => {
    const itemPath = `${path}[${index}]`;
    if (keys && isObject(item)) {
      const identity = JSON.stringify(keys.map((key) => item[key]));
      if (seen.has(identity)) {
        causes.push({ reason: 'FieldValueDuplicate', field: itemPath, message: `Duplicate value: ${JSON.stringify(Object.fromEntries(keys.map((key) => [key, item[key]])))}` });
      }
      seen.add(identity);
    }
    if (schema.items) causes.push(...validate(item, schema.items, correlate(item, old, keys), itemPath));
  });
  return causes;
}

/** The old list item that a new one is compared with: same map keys (list-type map only). */
function correlate(item: unknown, old: unknown, keys: string[] | undefined): unknown {
  if (!keys || !Array.isArray(old) || !isObject(item)) return undefined;
  return old.find((candidate) => isObject(candidate) && keys.every((key) => candidate[key] === item[key]));
}

function checkObject(value: Json, schema: JsonSchema, old: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const prefix = path ? `${path}.` : '';
  for (const required of schema.required ?? []) {
    if (value[required] === undefined) causes.push({ reason: 'FieldValueRequired', field: `${prefix}${required}`, message: 'Required value' });
  }
  const oldObject = isObject(old) ? old : undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!path && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const childSchema = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? (schema.additionalProperties as JsonSchema) : undefined);
    if (childSchema) causes.push(...validate(child, childSchema, oldObject?.[key], `${prefix}${key}`));
  }
  return causes;
}

function checkCelRules(value: unknown, schema: JsonSchema, old: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const compiled = compileRule(rule.rule);
    if (compiled.transition && old === undefined) continue;
    if (!compiled.evaluate(value, old)) {
      const shown = isObject(value) ? '"object"' : JSON.stringify(value);
      causes.push({
        reason: 'FieldValueInvalid',
        field: path || '<nil>',
        message: `Invalid value: ${shown}: ${rule.message ?? `failed rule: ${rule.rule}`}`,
      });
    }
  }
  return causes;
}
