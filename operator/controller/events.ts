/**
 * Kubernetes Events about a CloudTap, for `kubectl describe`. The same event
 * (object, reason, message) is recorded once per process, so periodic
 * resyncs of an unchanged problem do not write again and again.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { apiVersion, kind, type CloudTap } from '../api/types.js';
import { describeError, type KubeApi } from './kube.js';
import type { Logger } from './logger.js';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly recorded = new Set<string>();

  constructor(
    private readonly api: KubeApi,
    private readonly log: Logger,
    private readonly component = 'cloudtap-operator',
  ) {}

  async record(cloudTap: CloudTap, type: EventType, reason: string, message: string): Promise<void> {
    const { namespace, name, uid } = cloudTap.metadata;
    const identity = `${uid}/${type}/${reason}/${message}`;
    if (this.recorded.has(identity)) return;
    this.recorded.add(identity);
    const now = new Date();
    const event: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion, kind, name, namespace, ...(uid ? { uid } : {}), ...(cloudTap.metadata.resourceVersion ? { resourceVersion: cloudTap.metadata.resourceVersion } : {}) },
      type,
      reason,
      message,
      source: { component: this.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
    };
    try {
      await this.api.objects.create(event);
    } catch (error) {
      // An event that cannot be written must not fail the reconcile.
      this.recorded.delete(identity);
      this.log.warn('could not record an event', { cloudTap: `${namespace}/${name}`, reason, error: describeError(error) });
    }
  }

  /** Forget the events of a deleted CloudTap. */
  forget(uid: string | undefined): void {
    if (!uid) return;
    for (const identity of this.recorded) if (identity.startsWith(`${uid}/`)) this.recorded.delete(identity);
  }
}
