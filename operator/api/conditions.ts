/**
 * One helper for status conditions, used everywhere: it keeps
 * lastTransitionTime unless the status flips and always records the
 * generation the condition was computed from (as cert-manager does).
 */
import type { Condition, ConditionStatus, ConditionType } from './types.js';

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * Returns the conditions with `update` set. Order is kept; a new type goes last.
 * @param now the time to record when the status flips (an ISO string, seconds precision)
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: string,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    previous !== undefined && previous.status === update.status ? previous.lastTransitionTime : now;
  const next: Condition = {
    ...update,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
    lastTransitionTime,
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** Kubernetes times have whole seconds. */
export function nowSeconds(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
