/**
 * One cache over the namespaces the operator watches: a Reflector per
 * namespace when given a list (so RBAC may be granted namespace by
 * namespace), one cluster-wide Reflector otherwise.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './kube.js';
import type { Logger } from './logger.js';
import { Reflector, type ChangeHandler, type ReflectorOptions } from './reflector.js';

export class ReflectorSet<T extends KubernetesObject> {
  private readonly reflectors: Reflector<T>[];

  /** @param namespaces the namespaces to watch; undefined or empty watches all */
  constructor(api: KubeApi, options: Omit<ReflectorOptions, 'namespace'>, namespaces: readonly string[] | undefined, onChange: ChangeHandler<T>, log: Logger) {
    const scopes = namespaces && namespaces.length > 0 ? namespaces : [undefined];
    this.reflectors = scopes.map((namespace) => new Reflector<T>(api, { ...options, ...(namespace ? { namespace } : {}) }, onChange, log));
  }

  get hasSynced(): boolean {
    return this.reflectors.every((reflector) => reflector.hasSynced);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    for (const reflector of this.reflectors) {
      const found = reflector.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  list(): T[] {
    return this.reflectors.flatMap((reflector) => reflector.list());
  }

  start(): void {
    for (const reflector of this.reflectors) reflector.start();
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop();
  }
}
