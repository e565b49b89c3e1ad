/**
 * The rules of a coordination.k8s.io Lease, as client-go applies them, for both
 * the operator's leader Lease and a stitcher shard's Lease: who may take or renew
 * it, what a claim writes, how it is given up. The callers do the API calls
 * (optimistic concurrency, the resourceVersion, decides races).
 */
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';

/**
 * A Lease's times are MicroTime, which the API server parses with exactly six
 * fractional digits; the client passes a Date through as toISOString() (three
 * digits), which the server refuses. So the time goes as a padded string.
 */
export function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

/** Whether `identity` may take or renew the Lease now: it holds it, nobody does, or the holder let it expire. */
export function mayClaim(spec: V1LeaseSpec | undefined, identity: string, defaultDurationSeconds: number, now: Date): boolean {
  const holder = spec?.holderIdentity ?? '';
  if (holder === identity || holder === '') return true;
  const renewedMs = spec?.renewTime === undefined ? 0 : timeOf(spec.renewTime);
  return renewedMs + (spec?.leaseDurationSeconds ?? defaultDurationSeconds) * 1000 < now.getTime();
}

/** Whether a claim by `identity` takes the Lease over from someone (or no one) else: a transition. */
export function takesOver(spec: V1LeaseSpec | undefined, identity: string): boolean {
  return (spec?.holderIdentity ?? '') !== identity;
}

/** The spec a claim writes: renewed now; on a takeover also acquired now and one more transition. */
export function claimedSpec(previous: V1LeaseSpec | undefined, identity: string, durationSeconds: number, now: Date): V1LeaseSpec {
  const renewal = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) };
  if (previous === undefined) return { ...renewal, acquireTime: microTime(now), leaseTransitions: 0 };
  const takeover = takesOver(previous, identity) ? { acquireTime: microTime(now), leaseTransitions: (previous.leaseTransitions ?? 0) + 1 } : {};
  return { ...previous, ...renewal, ...takeover };
}

/** The spec that gives the Lease up, so that a successor need not wait for it to expire. */
export function releasedSpec(spec: V1LeaseSpec | undefined): V1LeaseSpec {
  return { ...spec, holderIdentity: '', leaseDurationSeconds: 1 };
}

/** Gives `lease` up through `replace` when `identity` still holds it (someone who took it over keeps it). */
export async function releaseIfHeld(lease: V1Lease | undefined, identity: string, replace: (released: V1Lease) => Promise<unknown>): Promise<void> {
  if (lease?.spec?.holderIdentity !== identity) return;
  await replace({ ...lease, spec: releasedSpec(lease.spec) });
}

/** The client may hand MicroTime back as a Date or as the string it was sent as. */
function timeOf(value: Date | string): number {
  return value instanceof Date ? value.getTime() : new Date(value).getTime();
}
