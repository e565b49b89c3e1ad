/**
 * `as=Table` answers as a real API server builds them: a Name column, the
 * CRD's printer columns (dates as ages), rows with the object's metadata.
 */
import type { PrinterColumn, ResourceType } from './registry.js';

type Json = Record<string, unknown>;

/** The JSONPath subset printer columns use: `.a.b`, `[*]`, `[0]`, `[?(@.k=="v")]`. */
export function jsonPath(value: unknown, path: string): unknown[] {
  let nodes: unknown[] = [value];
  const tokens = path.match(/\.[A-Za-z0-9_-]+|\[[^\]]*\]/g) ?? [];
  for (const token of tokens) {
    nodes = nodes.flatMap((node) => step(node, token));
  }
  return nodes.filter((node) => node !== undefined);
}

function step(node: unknown, token: string): unknown[] {
  if (token.startsWith('.')) return typeof node === 'object' && node !== null ? [(node as Json)[token.slice(1)]] : [];
  if (!Array.isArray(node)) return [];
  const inner = token.slice(1, -1);
  if (inner === '*') return node;
  const filter = /^\?\(@\.([A-Za-z0-9_-]+)\s*==\s*["']([^"']*)["']\)$/.exec(inner);
  if (filter) return node.filter((item) => typeof item === 'object' && item !== null && String((item as Json)[filter[1]!]) === filter[2]);
  return [node[Number(inner)]];
}

/** Like metav1 HumanDuration: 45s, 5m30s, 3h, 2d. */
export function humanAge(from: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

const defaultColumns: readonly PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];

export function toTable(type: ResourceType, objects: readonly Json[], resourceVersion: string, includeObject: string): Json {
  const columns = type.printerColumns && type.printerColumns.length > 0 ? type.printerColumns : defaultColumns;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      ...columns.map((column) => ({
        name: column.name,
        type: column.type,
        format: column.format ?? '',
        description: column.description ?? '',
        priority: column.priority ?? 0,
      })),
    ],
    rows: objects.map((object) => ({
      cells: [(object.metadata as Json).name, ...columns.map((column) => cell(object, column))],
      object: rowObject(object, includeObject),
    })),
  };
}

function cell(object: Json, column: PrinterColumn): unknown {
  const values = jsonPath(object, column.jsonPath);
  if (values.length === 0) return null;
  if (column.type === 'date') return humanAge(String(values[0]));
  if (values.length > 1) return values.map((value) => String(value)).join(',');
  return values[0];
}

function rowObject(object: Json, includeObject: string): Json | undefined {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}
