/**
 * OpenAPI v3 documents, enough for kubectl: `kubectl explain` reads the
 * schemas, and `kubectl apply` (validation on) looks for the
 * `fieldValidation` parameter on PATCH to hand validation to the server.
 * Custom resources get their CRD schema; built-ins a schema that accepts
 * anything (this server does not know their fields).
 */
import { createHash } from 'node:crypto';
import { groupVersion, type ResourceType } from './registry.js';

type Json = Record<string, unknown>;

/** The path key kubectl uses: `api/v1` or `apis/apps/v1`. */
function pathKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function schemaName(type: ResourceType): string {
  const reversed = type.group ? type.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${reversed}.${type.version}.${type.kind}`;
}

export function openApiRoot(types: readonly ResourceType[]): Json {
  const paths: Record<string, Json> = {};
  for (const type of types) {
    const key = pathKey(type.group, type.version);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(types, type.group, type.version)}` };
  }
  return { paths };
}

function documentHash(types: readonly ResourceType[], group: string, version: string): string {
  return createHash('sha256').update(JSON.stringify(groupVersionDocument(types, group, version))).digest('hex').slice(0, 32).toUpperCase();
}

export function groupVersionDocument(types: readonly ResourceType[], group: string, version: string): Json | undefined {
  const served = types.filter((type) => type.group === group && type.version === version);
  if (served.length === 0) return undefined;
  const schemas: Record<string, Json> = {};
  const paths: Record<string, Json> = {};
  for (const type of served) {
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    schemas[schemaName(type)] = {
      ...(type.schema ? structuredClone(type.schema) : { type: 'object', description: `${type.kind} (${groupVersion(type)})`, 'x-kubernetes-preserve-unknown-fields': true }),
      'x-kubernetes-group-version-kind': [gvk],
    };
    const prefix = `/${pathKey(type.group, type.version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
    const operation = (verb: string) => ({
      operationId: `${verb}${type.kind}`,
      parameters: [
        { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
        { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
      ],
      responses: { '200': { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(type)}` } } } } },
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[prefix] = { post: operation('post') };
    paths[`${prefix}/{name}`] = { get: operation('get'), put: operation('put'), patch: operation('patch') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas } };
}
