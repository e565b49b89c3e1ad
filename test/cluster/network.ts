/**
 * Addresses for the node and its pods. The apiserver and the node's peers
 * (Azurite) listen on the node address, a /32 on the loopback interface (a dummy link needs a kernel module that may be missing); each pod
 * gets a network namespace of its own joined to the host by a veth pair, a
 * /32 and a route to the node address only (so two pods can listen on the
 * same port, as in a cluster, and none can send off this machine). Addresses are in 198.19.0.0/16
 * (benchmarking range, this machine only), one /24 per test process.
 */
import { execFileSync } from 'node:child_process';

const run = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const block = `198.19.${(process.pid % 250) + 1}`;

export const nodeAddress = `${block}.1`;

/** Adds the node address; throws where network namespaces or links are not permitted. */
export function addNodeAddress(): void {
  removeNodeAddress();
  run('addr', 'add', `${nodeAddress}/32`, 'dev', 'lo');
}

export function removeNodeAddress(): void {
  try {
    run('addr', 'del', `${nodeAddress}/32`, 'dev', 'lo');
  } catch {
    // already gone
  }
}

export interface PodNetwork {
  readonly namespace: string;
  readonly address: string;
  remove(): void;
}

let nextHost = 10;
const live = new Set<PodNetwork>();
process.once('exit', () => {
  for (const network of live) network.remove();
});

/** A network namespace with one address routed to the node address. */
export function addPodNetwork(id: string): PodNetwork {
  if (nextHost > 250) throw new Error('no pod address left in this test run');
  const address = `${block}.${nextHost++}`;
  const namespace = `ctp-${id}`;
  const host = `cth${id}`.slice(0, 15);
  const peer = `ctc${id}`.slice(0, 15);
  run('netns', 'add', namespace);
  run('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
  run('link', 'set', peer, 'netns', namespace);
  run('link', 'set', host, 'up');
  // src: the node address, else the kernel may pick another global address on lo (another test run's), which the pod cannot answer.
  run('route', 'add', `${address}/32`, 'dev', host, 'src', nodeAddress);
  const inPod = (...args: string[]) => run('-n', namespace, ...args);
  inPod('link', 'set', 'lo', 'up');
  inPod('link', 'set', peer, 'name', 'eth0');
  inPod('addr', 'add', `${address}/32`, 'dev', 'eth0');
  inPod('link', 'set', 'eth0', 'up');
  // The node address and nothing else: no default route, so a pod can reach no address off this machine.
  inPod('route', 'add', `${nodeAddress}/32`, 'dev', 'eth0', 'scope', 'link');
  const network: PodNetwork = {
    namespace,
    address,
    remove: () => {
      live.delete(network);
      for (const args of [['link', 'del', host], ['netns', 'del', namespace]]) {
        try {
          run(...args);
        } catch {
          // already gone
        }
      }
    },
  };
  live.add(network);
  return network;
}
