/**
 * The write semantics of a real API server, independent of HTTP: create,
 * update, patch, delete with finalizers, status and scale subresources,
 * generation, optimistic concurrency, CRD schema handling and background
 * garbage collection of dependents.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, errors, type StatusCause } from './errors.js';
import { builtinTypes, typeKey, typesFromCrd, type CrdSpec, type ResourceType } from './registry.js';
import { validateBuiltin } from './builtins.js';
import { applyDefaults, checkRules, prune, validate } from './schema.js';
import { metadataOf, Storage, type Json } from './storage.js';
import { jsonPath } from './table.js';

export type Subresource = 'status' | 'scale' | undefined;

export interface WriteOptions {
  /** `Orphan` leaves dependents; Background and Foreground both collect them (in the background). */
  readonly propagationPolicy?: string;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `fieldValidation` of the request being served: what to do with unknown fields. */
export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export class Resources {
  readonly storage = new Storage();
  /** Set by the HTTP layer around each call (calls are synchronous). @default "Warn", as kube-apiserver */
  fieldValidation: FieldValidation = 'Warn';
  /** Warnings for the request being served (the `Warning` response header). */
  warnings: string[] = [];
  private readonly types = new Map<string, ResourceType>();

  constructor(private readonly options: { readonly simulateDeployments: boolean }) {
    for (const type of builtinTypes) this.types.set(typeKey(type), type);
    for (const name of ['default', 'kube-system', 'kube-public']) {
      this.storage.put(this.typeOf('', 'v1', 'namespaces')!, this.newMetadata({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined), 'ADDED');
    }
  }

  allTypes(): ResourceType[] {
    return [...this.types.values()];
  }

  typeOf(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(`${group}/${version}/${plural}`);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): Json {
    const object = this.storage.get(type, namespace, name);
    if (!object) throw errors.notFound(type, name);
    return object;
  }

  create(type: ResourceType, namespace: string | undefined, body: Json): Json {
    const object = structuredClone(body);
    this.checkKind(type, object);
    const metadata = (object.metadata ?? {}) as Json;
    object.metadata = metadata;
    if (!metadata.name && metadata.generateName) metadata.name = `${metadata.generateName as string}${randomUUID().slice(0, 5)}`;
    const name = String(metadata.name ?? '');
    if (type.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = namespace;
      if (!this.storage.get(this.typeOf('', 'v1', 'namespaces')!, undefined, namespace!)) {
        throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace!, kind: 'namespaces' });
      }
    }
    if (!dnsSubdomain.test(name) || name.length > 253) {
      throw errors.invalid(type, name, [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` }]);
    }
    if (this.storage.get(type, metadata.namespace as string | undefined, name)) throw errors.alreadyExists(type, name);
    if (type.status && type.schema) delete object.status;
    dropEmptyMetadata(metadata);
    this.admit(type, object, undefined);
    const stored = this.storage.put(type, this.newMetadata(object, type), 'ADDED');
    this.afterWrite(type, stored, undefined);
    return stored;
  }

  /** PUT: the whole object, or the whole status / scale. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: Json, subresource: Subresource): Json {
    const current = this.get(type, namespace, name);
    if (subresource === 'scale') return this.writeScale(type, current, body);
    this.checkKind(type, body);
    return this.write(type, current, body, subresource);
  }

  /** PATCH: `apply` patches the current object into the next one. */
  patch(type: ResourceType, namespace: string | undefined, name: string, apply: (current: Json) => Json, subresource: Subresource, createIfAbsent: boolean): Json {
    const current = this.storage.get(type, namespace, name);
    if (!current) {
      if (!createIfAbsent) throw errors.notFound(type, name);
      return this.create(type, namespace, apply({}));
    }
    if (subresource === 'scale') return this.writeScale(type, current, apply(this.scaleOf(type, current)));
    const next = apply(structuredClone(current));
    const stale = metadataOf(next).resourceVersion;
    // A patch is only conditional when the patch itself names a resourceVersion.
    if (stale === metadataOf(current).resourceVersion) delete metadataOf(next).resourceVersion;
    else if (stale !== undefined) throw errors.conflict(type, name);
    return this.write(type, current, next, subresource);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: WriteOptions): Json {
    const current = this.get(type, namespace, name);
    const metadata = metadataOf(current);
    const finalizers = (metadata.finalizers as string[] | undefined) ?? [];
    if (finalizers.length > 0) {
      if (metadata.deletionTimestamp) return current;
      metadata.deletionTimestamp = now();
      metadata.deletionGracePeriodSeconds = 0;
      if (type.generation) metadata.generation = Number(metadata.generation ?? 1) + 1;
      return this.storage.put(type, current, 'MODIFIED');
    }
    return this.remove(type, current, options);
  }

  scaleOf(type: ResourceType, object: Json): Json {
    const scale = type.scale;
    if (!scale) throw errors.notFound(type, `${String(metadataOf(object).name)}/scale`);
    const metadata = metadataOf(object);
    const selector = scale.labelSelectorPath ? jsonPath(object, scale.labelSelectorPath)[0] : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        resourceVersion: metadata.resourceVersion,
        creationTimestamp: metadata.creationTimestamp,
      },
      spec: { replicas: Number(jsonPath(object, scale.specReplicasPath)[0] ?? 0) },
      status: { replicas: Number(jsonPath(object, scale.statusReplicasPath)[0] ?? 0), ...(selector ? { selector } : {}) },
    };
  }

  private writeScale(type: ResourceType, current: Json, scale: Json): Json {
    const metadata = metadataOf(current);
    const requested = (scale.metadata as Json | undefined)?.resourceVersion;
    if (requested !== undefined && requested !== metadata.resourceVersion) throw errors.conflict(type, String(metadata.name));
    const replicas = (scale.spec as Json | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid({ group: 'autoscaling', kind: 'Scale', plural: 'scales' }, String(metadata.name), [
        { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer` },
      ]);
    }
    const next = structuredClone(current);
    setPath(next, type.scale!.specReplicasPath, replicas);
    delete metadataOf(next).resourceVersion;
    this.write(type, current, next, undefined);
    return this.scaleOf(type, this.get(type, metadata.namespace as string | undefined, String(metadata.name)));
  }

  private write(type: ResourceType, current: Json, body: Json, subresource: Subresource): Json {
    const currentMeta = metadataOf(current);
    const name = String(currentMeta.name);
    const requested = (body.metadata as Json | undefined)?.resourceVersion;
    if (requested !== undefined && requested !== currentMeta.resourceVersion) throw errors.conflict(type, name);
    const next = this.merged(type, current, body, subresource);
    this.admit(type, next, current);
    const nextMeta = metadataOf(next);
    if (type.generation && specOf(next) !== specOf(current)) nextMeta.generation = Number(currentMeta.generation ?? 1) + 1;
    if (nextMeta.deletionTimestamp && ((nextMeta.finalizers as string[] | undefined) ?? []).length === 0) {
      return this.remove(type, next, {});
    }
    dropEmptyMetadata(nextMeta);
    nextMeta.resourceVersion = currentMeta.resourceVersion;
    if (JSON.stringify(next) === JSON.stringify(current)) return current; // a no-op write stores nothing
    const stored = this.storage.put(type, next, 'MODIFIED');
    this.afterWrite(type, stored, current);
    return stored;
  }

  /** The object a write produces: status writes change only status, main writes keep status. */
  private merged(type: ResourceType, current: Json, body: Json, subresource: Subresource): Json {
    const currentMeta = metadataOf(current);
    if (subresource === 'status') return { ...current, status: structuredClone(body.status) };
    const next = structuredClone(body);
    const metadata = { ...((next.metadata ?? {}) as Json) };
    for (const key of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (currentMeta[key] === undefined) delete metadata[key];
      else metadata[key] = currentMeta[key];
    }
    next.metadata = metadata;
    if (type.status) {
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
    for (const key of ['apiVersion', 'kind']) next[key] = current[key];
    return next;
  }

  /** Prune, default and validate a custom resource against its CRD schema. */
  private admit(type: ResourceType, object: Json, old: Json | undefined): void {
    if (type.kind === 'CustomResourceDefinition') return this.admitCrd(object);
    if (type.kind === 'Secret') return foldStringData(object);
    if (type.kind === 'Lease') checkMicroTimes(type, object, ['acquireTime', 'renewTime']);
    if (!type.schema) {
      const causes = validateBuiltin(type.kind, object, old);
      if (causes.length > 0) throw errors.invalid(type, String(metadataOf(object).name), causes);
      return;
    }
    const unknown = prune(object, type.schema);
    if (unknown.length > 0 && this.fieldValidation === 'Strict') {
      throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((field) => `unknown field "${field}"`).join(', ')}`);
    }
    if (this.fieldValidation === 'Warn') this.warnings.push(...unknown.map((field) => `unknown field "${field}"`));
    applyDefaults(object, type.schema);
    const causes: StatusCause[] = validate(object, type.schema, old);
    if (causes.length > 0) throw errors.invalid(type, String(metadataOf(object).name), causes);
  }

  private admitCrd(object: Json): void {
    const spec = object.spec as CrdSpec;
    const name = String(metadataOf(object).name);
    const crdType = this.typeOf('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    const causes: StatusCause[] = [];
    if (name !== `${spec?.names?.plural}.${spec?.group}`) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group` });
    }
    for (const [index, version] of (spec?.versions ?? []).entries()) {
      const schema = version.schema?.openAPIV3Schema;
      if (!schema) continue;
      try {
        checkRules(schema);
      } catch (error) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.versions[${index}].schema.openAPIV3Schema`, message: (error as Error).message });
      }
    }
    if (causes.length > 0) throw errors.invalid(crdType, name, causes);
  }

  private afterWrite(type: ResourceType, stored: Json, previous: Json | undefined): void {
    if (this.storage.dryRun) return;
    if (type.kind === 'CustomResourceDefinition') this.registerCrd(stored);
    if (type.kind === 'Deployment' && this.options.simulateDeployments) this.simulateRollout(type, stored, previous);
  }

  private registerCrd(crd: Json): void {
    for (const type of typesFromCrd(crd.spec as CrdSpec)) this.types.set(typeKey(type), type);
    const crdType = this.typeOf('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    if (crd.status === undefined) {
      const conditions = ['NamesAccepted', 'Established'].map((conditionType) => ({
        type: conditionType,
        status: 'True',
        reason: conditionType === 'Established' ? 'InitialNamesAccepted' : 'NoConflicts',
        message: '',
        lastTransitionTime: now(),
      }));
      const names = (crd.spec as CrdSpec).names;
      this.storage.put(crdType, { ...crd, status: { conditions, acceptedNames: names, storedVersions: [(crd.spec as CrdSpec).versions.find((v) => v.storage)?.name] } }, 'MODIFIED');
    }
  }

  /** What the deployment controller would write: all replicas ready, generation observed. */
  private simulateRollout(type: ResourceType, stored: Json, previous: Json | undefined): void {
    const metadata = metadataOf(stored);
    if (previous && metadataOf(previous).generation === metadata.generation) return;
    setImmediate(() => {
      const current = this.storage.get(type, metadata.namespace as string, String(metadata.name));
      if (!current || metadataOf(current).generation !== metadata.generation) return;
      const replicas = Number((current.spec as Json | undefined)?.replicas ?? 1);
      current.status = { observedGeneration: metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas };
      this.storage.put(type, current, 'MODIFIED');
    });
  }

  private remove(type: ResourceType, object: Json, options: WriteOptions): Json {
    const removed = this.storage.remove(type, object);
    if (this.storage.dryRun) return removed;
    if (type.kind === 'CustomResourceDefinition') this.unregisterCrd(object);
    const uid = metadataOf(object).uid as string;
    if (options.propagationPolicy === 'Orphan') this.orphanDependents(uid);
    else setTimeout(() => this.collectDependents(uid), 5);
    return removed;
  }

  private unregisterCrd(crd: Json): void {
    for (const type of typesFromCrd(crd.spec as CrdSpec)) {
      this.storage.dropType(type);
      this.types.delete(typeKey(type));
    }
  }

  /** Background garbage collection: dependents whose every owner is gone are deleted. */
  private collectDependents(ownerUid: string): void {
    for (const [key, object] of [...this.storage.all()]) {
      const refs = (metadataOf(object).ownerReferences as Json[] | undefined) ?? [];
      if (!refs.some((ref) => ref.uid === ownerUid)) continue;
      const type = this.types.get(key);
      if (!type) continue;
      const remaining = refs.filter((ref) => ref.uid !== ownerUid && this.uidExists(String(ref.uid)));
      const metadata = metadataOf(object);
      try {
        if (remaining.length === 0) this.delete(type, metadata.namespace as string | undefined, String(metadata.name), {});
        else this.storage.put(type, { ...object, metadata: { ...metadata, ownerReferences: remaining } }, 'MODIFIED');
      } catch {
        // Deleted meanwhile: nothing to collect.
      }
    }
  }

  private orphanDependents(ownerUid: string): void {
    for (const [key, object] of [...this.storage.all()]) {
      const refs = (metadataOf(object).ownerReferences as Json[] | undefined) ?? [];
      if (!refs.some((ref) => ref.uid === ownerUid)) continue;
      const metadata = { ...metadataOf(object), ownerReferences: refs.filter((ref) => ref.uid !== ownerUid) };
      this.storage.put(this.types.get(key)!, { ...object, metadata }, 'MODIFIED');
    }
  }

  private uidExists(uid: string): boolean {
    for (const [, object] of this.storage.all()) if (metadataOf(object).uid === uid) return true;
    return false;
  }

  private checkKind(type: ResourceType, object: Json): void {
    const expected = type.group ? `${type.group}/${type.version}` : type.version;
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw errors.badRequest(`the kind of the object (${String(object.kind)}) does not match the resource (${type.kind})`);
    }
    if (object.apiVersion !== undefined && object.apiVersion !== expected) {
      throw errors.badRequest(`the API version of the object (${String(object.apiVersion)}) does not match the request (${expected})`);
    }
  }

  private newMetadata(object: Json, type: ResourceType | undefined): Json {
    const metadata = metadataOf(object);
    for (const key of ['uid', 'resourceVersion', 'deletionTimestamp', 'generation']) delete metadata[key];
    metadata.uid = randomUUID();
    metadata.creationTimestamp = now();
    if (type?.generation) metadata.generation = 1;
    return object;
  }
}

/** Go's omitempty: empty labels, annotations, finalizers and ownerReferences are not stored. */
function dropEmptyMetadata(metadata: Json): void {
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const value = metadata[key];
    if (value !== undefined && (Array.isArray(value) ? value.length === 0 : Object.keys(value as Json).length === 0)) delete metadata[key];
  }
}

/** MicroTime fields decode with Go's RFC3339Micro layout: exactly six fractional digits. */
function checkMicroTimes(type: ResourceType, object: Json, fields: readonly string[]): void {
  const spec = (object.spec ?? {}) as Json;
  for (const field of fields) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/.test(value)) {
      throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000"`);
    }
  }
}

/** Secrets store stringData as base64 data, as the real API server does on every write. */
function foldStringData(secret: Json): void {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (!stringData) return;
  const data = { ...((secret.data ?? {}) as Record<string, string>) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value).toString('base64');
  secret.data = data;
  delete secret.stringData;
}

/** Everything but metadata and status, to tell spec changes from others. */
function specOf(object: Json): string {
  return JSON.stringify(Object.entries(object).filter(([key]) => key !== 'metadata' && key !== 'status'));
}

function setPath(object: Json, path: string, value: unknown): void {
  const keys = path.split('.').filter(Boolean);
  let node = object;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1]!] = value;
}
