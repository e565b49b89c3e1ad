/**
 * The CEL rules the project's CRDs use, as hand-written equivalents. A rule
 * not in this table makes the CRD fail to register, so a new rule in a CRD
 * cannot go unchecked: add its equivalent here (and a test of it).
 */

type Json = Record<string, unknown>;
type Rule = (self: unknown, oldSelf: unknown) => boolean;

const obj = (value: unknown): Json => (value ?? {}) as Json;
const has = (value: unknown, field: string): boolean => obj(value)[field] !== undefined;

const rules: Readonly<Record<string, Rule>> = {
  'self.metadata.name.size() <= 40': (self) => String(obj(obj(self).metadata).name ?? '').length <= 40,
  "self.provider == 'azure' ? has(self.account) : !has(self.account)": (self) =>
    obj(self).provider === 'azure' ? has(self, 'account') : !has(self, 'account'),
  "self.provider == 's3' || !has(self.region)": (self) => obj(self).provider === 's3' || !has(self, 'region'),
  'self.provider == oldSelf.provider && self.bucket == oldSelf.bucket': (self, oldSelf) =>
    obj(self).provider === obj(oldSelf).provider && obj(self).bucket === obj(oldSelf).bucket,
  "!(self.type in ['vxlan', 'geneve']) || has(self.vni)": (self) =>
    !['vxlan', 'geneve'].includes(String(obj(self).type)) || has(self, 'vni'),
  "!(self.type in ['vxlan', 'geneve', 'pcapOverIp']) || has(self.host)": (self) =>
    !['vxlan', 'geneve', 'pcapOverIp'].includes(String(obj(self).type)) || has(self, 'host'),
  "self.type != 'pcapVolume' || has(self.claimName)": (self) => obj(self).type !== 'pcapVolume' || has(self, 'claimName'),
  "self.type != 'pcapBucket' || has(self.store)": (self) => obj(self).type !== 'pcapBucket' || has(self, 'store'),
};

export interface CompiledRule {
  readonly text: string;
  /** Transition rules (using oldSelf) run only on updates, where an old value exists. */
  readonly transition: boolean;
  readonly evaluate: Rule;
}

/** @throws Error naming the rule when this server has no equivalent for it. */
export function compileRule(text: string): CompiledRule {
  const evaluate = rules[text.trim()];
  if (!evaluate) throw new Error(`no equivalent for the CEL rule ${JSON.stringify(text)} in test/k8s/cel.ts`);
  return { text, transition: /\boldSelf\b/.test(text), evaluate };
}
