/**
 * The CEL rules the project's CRDs use, as hand-written equivalents. A rule
 * not in this table makes the CRD fail to register, so a new rule in a CRD
 * cannot go unchecked: add its equivalent here (and a test of it).
 */

import { isIP } from 'node:net';

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
  '!has(self.privileged) || !self.privileged': (self) => obj(self).privileged !== true,
  '!has(self.runAsUser) || self.runAsUser != 0': (self) => obj(self).runAsUser !== 0,
  '!has(self.runAsNonRoot) || self.runAsNonRoot': (self) => obj(self).runAsNonRoot !== false,
  '!has(self.allowPrivilegeEscalation) || !self.allowPrivilegeEscalation': (self) => obj(self).allowPrivilegeEscalation !== true,
  '!has(self.readOnlyRootFilesystem) || self.readOnlyRootFilesystem': (self) => obj(self).readOnlyRootFilesystem !== false,
  '!has(self.capabilities) || !has(self.capabilities.add) || size(self.capabilities.add) == 0': (self) =>
    ((obj(obj(self).capabilities).add as unknown[] | undefined) ?? []).length === 0,
  "!has(self.seccompProfile) || self.seccompProfile.type != 'Unconfined'": (self) => obj(obj(self).seccompProfile).type !== 'Unconfined',
  "self.all(k, !k.startsWith('app.kubernetes.io/') && !k.startsWith('cloudtap.io/'))": (self) =>
    Object.keys(obj(self)).every((key) => !key.startsWith('app.kubernetes.io/') && !key.startsWith('cloudtap.io/')),
  "self.all(e, !(e.name in ['SHARD_INDEX', 'SHARD_MODULUS', 'SHARD_COUNT', 'POD_NAME', 'POD_NAMESPACE', 'CLOUDTAP_UID', 'NODE_EXTRA_CA_CERTS']))": (self) =>
    ((self ?? []) as Json[]).every((entry) => !['SHARD_INDEX', 'SHARD_MODULUS', 'SHARD_COUNT', 'POD_NAME', 'POD_NAMESPACE', 'CLOUDTAP_UID', 'NODE_EXTRA_CA_CERTS'].includes(String(entry.name))),
  // Kubernetes' CEL libraries (cidr, ip, url, quantity); the real apiserver judges them in test/cluster/crd-validation.test.ts.
  'isCIDR(self)': (self) => {
    const [address = '', prefix = '', extra] = String(self).split('/');
    const family = isIP(address);
    return extra === undefined && family !== 0 && /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  },
  "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''": (self) => {
    try {
      const url = new URL(String(self));
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  'type(self) == int || isQuantity(self)': (self) =>
    typeof self === 'number' || /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/.test(String(self)),
};

/** `<path>.matches('<RE2>')` and `isIP(self) || self.matches('<RE2>')`, for the patterns the CRD spells out in CEL. */
function matchesRule(text: string): Rule | undefined {
  const found = /^(isIP\(self\) \|\| )?self((?:\.[a-z]+)*)\.matches\('(.*)'\)$/.exec(text);
  if (!found) return undefined;
  const [, orIp, path = '', literal = ''] = found;
  // A CEL single-quoted string: \\ is one backslash.
  const pattern = new RegExp(literal.replace(/\\\\/g, '\\'));
  const fields = path.split('.').filter(Boolean);
  return (self) => {
    const value = String(fields.reduce<unknown>((at, field) => obj(at)[field], self) ?? '');
    return (orIp !== undefined && isIP(value) !== 0) || pattern.test(value);
  };
}

export interface CompiledRule {
  readonly text: string;
  /** Transition rules (using oldSelf) run only on updates, where an old value exists. */
  readonly transition: boolean;
  readonly evaluate: Rule;
}

/** @throws Error naming the rule when this server has no equivalent for it. */
export function compileRule(text: string): CompiledRule {
  const evaluate = rules[text.trim()] ?? matchesRule(text.trim());
  if (!evaluate) throw new Error(`no equivalent for the CEL rule ${JSON.stringify(text)} in test/k8s/cel.ts`);
  return { text, transition: /\boldSelf\b/.test(text), evaluate };
}
