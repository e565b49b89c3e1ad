/** Label and field selectors as the API server parses them (the common subset). */

type Json = Record<string, unknown>;
export type Matcher = (object: Json) => boolean;

/** `a=b,c!=d,e in (x,y),f notin (z),g,!h` against metadata.labels. */
export function labelSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map((part) => labelRequirement(part.trim()));
  return (object) => {
    const labels = ((object.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;
    return requirements.every((requirement) => requirement(labels));
  };
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current) parts.push(current);
  return parts;
}

function labelRequirement(part: string): (labels: Record<string, string>) => boolean {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((value) => value.trim());
    const key = set[1]!;
    return set[2] === 'in' ? (labels) => values.includes(labels[key]!) : (labels) => !values.includes(labels[key]!);
  }
  const unequal = /^([^!=]+)!=(.*)$/.exec(part);
  if (unequal) return (labels) => labels[unequal[1]!.trim()] !== unequal[2]!.trim();
  const equal = /^([^!=]+)==?(.*)$/.exec(part);
  if (equal) return (labels) => labels[equal[1]!.trim()] === equal[2]!.trim();
  if (part.startsWith('!')) return (labels) => labels[part.slice(1)] === undefined;
  return (labels) => labels[part] !== undefined;
}

/** `metadata.name=x,involvedObject.uid!=y`: equality on dotted paths. */
export function fieldSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const requirements = text.split(',').map((part) => {
    const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(part.trim());
    if (!match) throw new Error(`invalid field selector ${JSON.stringify(part)}`);
    const path = match[1]!.split('.');
    const negate = match[2] === '!=';
    const value = match[3]!;
    return (object: Json) => {
      let node: unknown = object;
      for (const key of path) node = typeof node === 'object' && node !== null ? (node as Json)[key] : undefined;
      return (String(node ?? '') === value) !== negate;
    };
  });
  return (object) => requirements.every((requirement) => requirement(object));
}
