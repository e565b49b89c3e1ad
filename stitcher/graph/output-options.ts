/**
 * The query parameters every output URL may carry that concern the pipeline,
 * not the exporter: which TLS variant the output gets, how addresses are
 * remapped before synthesis, and a key log file written beside it. They are
 * taken out of the URL before the exporter parses the rest.
 */
import { parseRemapRule } from '../export/remap.js';
import { PIPELINE_PARAMETERS, VARIANTS, type Variant } from '../../contract/output-url.js';

export type { Variant };

export interface OutputOptions {
  /** The URL without the pipeline's parameters, for the exporter. */
  readonly url: string;
  /** @default 'original' */
  readonly variant: Variant;
  /** `client:<cidr>` / `server:<cidr>` rules, validated. */
  readonly remap: readonly string[];
  /** An absolute path to write the NSS key log lines to (secrets: the file is created 0600). */
  readonly keylog?: string;
}

/** @throws Error `output <url>: ...` naming the parameter at fault */
export function splitOutputOptions(url: string): OutputOptions {
  const problem = (what: string): Error => new Error(`output ${url}: ${what}`);
  const query = url.indexOf('?');
  if (query < 0) return { url, variant: 'original', remap: [] };
  const params = new URLSearchParams(url.slice(query + 1));
  const variant = params.get('variant') ?? 'original';
  if (!VARIANTS.includes(variant as Variant)) throw problem(`variant '${variant}' is not one of ${VARIANTS.join(', ')}`);
  const remap = params.getAll('remap');
  for (const rule of remap) {
    try {
      parseRemapRule(rule);
    } catch (error) {
      throw problem((error as Error).message);
    }
  }
  const keylog = params.get('keylog') ?? undefined;
  if (keylog !== undefined && !keylog.startsWith('/')) throw problem(`keylog '${keylog}' must be an absolute path`);
  for (const name of PIPELINE_PARAMETERS) params.delete(name);
  const rest = params.toString();
  return {
    url: url.slice(0, query) + (rest === '' ? '' : `?${rest}`),
    variant: variant as Variant,
    remap,
    ...(keylog !== undefined ? { keylog } : {}),
  };
}
