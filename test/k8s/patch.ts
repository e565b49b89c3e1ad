/**
 * The four patch types of a real API server: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902), strategic merge (lists of named objects merged by
 * name, kubectl's `$` directives honoured) and apply (server-side apply,
 * here a strategic merge of the applied configuration, without field owners).
 */
import { errors } from './errors.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw errors.badRequest('a JSON patch must be an array of operations');
  let document = structuredClone(target);
  for (const operation of operations as JsonPatchOperation[]) document = applyOperation(document, operation);
  return document;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.badRequest(`JSON patch path ${JSON.stringify(path)} does not start with /`);
  return path.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyOperation(document: unknown, operation: JsonPatchOperation): unknown {
  const tokens = pointer(operation.path);
  switch (operation.op) {
    case 'add':
      return setAt(document, tokens, structuredClone(operation.value), true);
    case 'replace':
      getAt(document, tokens, operation.path);
      return setAt(document, tokens, structuredClone(operation.value), false);
    case 'remove':
      getAt(document, tokens, operation.path);
      return removeAt(document, tokens);
    case 'test':
      if (JSON.stringify(getAt(document, tokens, operation.path)) !== JSON.stringify(operation.value)) {
        throw errors.unprocessable(`jsonpatch: test failed at ${operation.path}`);
      }
      return document;
    case 'copy':
    case 'move': {
      const fromTokens = pointer(operation.from ?? '');
      const value = structuredClone(getAt(document, fromTokens, operation.from ?? ''));
      const moved = operation.op === 'move' ? removeAt(document, fromTokens) : document;
      return setAt(moved, tokens, value, true);
    }
    default:
      throw errors.badRequest(`unknown JSON patch operation ${JSON.stringify(operation.op)}`);
  }
}

function getAt(document: unknown, tokens: string[], path: string): unknown {
  let node = document;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw errors.unprocessable(`jsonpatch: path ${path} does not exist`);
  }
  return node;
}

function setAt(document: unknown, tokens: string[], value: unknown, insert: boolean): unknown {
  if (tokens.length === 0) return value;
  const parent = getAt(document, tokens.slice(0, -1), `/${tokens.slice(0, -1).join('/')}`);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw errors.unprocessable(`jsonpatch: index ${last} out of range`);
    parent.splice(index, insert ? 0 : 1, value);
  } else if (isObject(parent)) parent[last] = value;
  else throw errors.unprocessable(`jsonpatch: cannot set ${last} in a non-container`);
  return document;
}

function removeAt(document: unknown, tokens: string[]): unknown {
  const parent = getAt(document, tokens.slice(0, -1), '');
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return document;
}

/** Strategic merge: like merge patch, but lists of objects with a `name` merge by name. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const result: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else if (Array.isArray(value) && Array.isArray(result[key]) && isNamedList(value)) {
      result[key] = mergeNamedLists(result[key] as unknown[], value);
    } else result[key] = strategicMergePatch(result[key], value);
  }
  return result;
}

function isNamedList(list: unknown[]): boolean {
  return list.length > 0 && list.every((item) => isObject(item) && typeof item.name === 'string');
}

function mergeNamedLists(current: unknown[], patch: unknown[]): unknown[] {
  const result = [...current] as Json[];
  for (const item of patch as Json[]) {
    const index = result.findIndex((existing) => existing.name === item.name);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMergePatch(result[index], item) as Json;
    else result.push(stripDirectives(item) as Json);
  }
  return result;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('$')).map(([key, inner]) => [key, stripDirectives(inner)]));
}
