/**
 * The resource types the test server serves: built-ins and those registered
 * by CustomResourceDefinitions, with what discovery reports for each.
 */
import type { JsonSchema } from './schema.js';

export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
  readonly format?: string;
}

export interface ScalePaths {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Whether `/status` is served (and main writes ignore status). */
  readonly status: boolean;
  readonly scale?: ScalePaths;
  readonly schema?: JsonSchema;
  readonly printerColumns?: readonly PrinterColumn[];
  /** Writes to anything but metadata and status bump metadata.generation. */
  readonly generation: boolean;
}

export const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function groupVersion(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function typeKey(type: ResourceType): string {
  return `${type.group}/${type.version}/${type.plural}`;
}

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  options: Partial<Pick<ResourceType, 'namespaced' | 'shortNames' | 'categories' | 'status' | 'generation' | 'scale'>> = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced: options.namespaced ?? true,
    shortNames: options.shortNames ?? [],
    categories: options.categories ?? [],
    status: options.status ?? false,
    generation: options.generation ?? false,
    ...(options.scale ? { scale: options.scale } : {}),
  };
}

export const builtinTypes: readonly ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], status: true }),
  builtin('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  builtin('', 'v1', 'Secret', 'secrets'),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
  builtin('', 'v1', 'Service', 'services', { shortNames: ['svc'], categories: ['all'], status: true }),
  builtin('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  builtin('', 'v1', 'Pod', 'pods', { shortNames: ['po'], categories: ['all'], status: true }),
  builtin('apps', 'v1', 'Deployment', 'deployments', {
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    generation: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
  }),
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  builtin('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    status: true,
    generation: true,
  }),
];

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JsonSchema };
  subresources?: { status?: object; scale?: ScalePaths };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { kind: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[]; listKind?: string };
  versions: CrdVersion[];
}

/** The served versions of a CRD as resource types. */
export function typesFromCrd(spec: CrdSpec): ResourceType[] {
  return spec.versions
    .filter((version) => version.served)
    .map((version) => ({
      group: spec.group,
      version: version.name,
      kind: spec.names.kind,
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      namespaced: spec.scope === 'Namespaced',
      shortNames: spec.names.shortNames ?? [],
      categories: spec.names.categories ?? [],
      status: version.subresources?.status !== undefined,
      ...(version.subresources?.scale ? { scale: version.subresources.scale } : {}),
      ...(version.schema?.openAPIV3Schema ? { schema: version.schema.openAPIV3Schema } : {}),
      printerColumns: version.additionalPrinterColumns ?? [],
      generation: true,
    }));
}
