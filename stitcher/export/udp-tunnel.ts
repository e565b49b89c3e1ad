/**
 * Sends tunnel datagrams (VXLAN, GENEVE) to one peer from a small, fixed set of
 * UDP source ports, so that the outer source port follows the inner flow.
 *
 * Why a fixed set: Node cannot send from an arbitrary source port without a
 * socket bound to it, and binding one socket per flow (or an LRU of them)
 * churns bind/close under many concurrent flows. `sourcePorts` sockets (64 by
 * default, opened lazily on first use) spread evenly over 49152-65535 give a
 * sensor's RSS/ECMP all the entropy it uses, keep one flow on one path, and cost
 * a bounded number of file descriptors; `ports=16384` uses the whole range.
 *
 * Sockets are bound with SO_REUSEADDR (several outputs or shards on one host
 * share ports) and connected to the peer: a connected send skips the per-send
 * address lookup and reports ICMP errors (ECONNREFUSED) on the next send.
 * A port taken by another program is replaced by the next free one in its slot.
 *
 * Most datagrams go out without a completion callback: Node completes a send
 * that the kernel took at once with a process.nextTick to its callback, a sixth
 * of the sink's time. A slot asks for one when it matters: one send in
 * CONFIRM_EVERY and one at least every CONFIRM_MS (a connected socket's pending
 * error, ECONNREFUSED, is handed to whichever send comes next), every send once
 * libuv is seen to queue (the kernel buffer is full: the callbacks say when it
 * drains), and every send for ERROR_WATCH_SENDS after an error, so a failing
 * peer is counted send by send once it is seen.
 *
 * Datagrams go out without a copy. When the kernel buffer is full libuv holds
 * the parts until they are sent, so a producer must not rewrite a packet's
 * memory after `write` (the synthesiser's header slabs and decoded CTAP blocks
 * never are); the pacing queue, which holds packets longer, copies them.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { tunnelPortCount, tunnelSourcePort } from './flow-hash.js';
import type { Packet } from '../packet/packet.js';
import type { WireSink, WireStats } from './wire-sink.js';
import { countSendError, emptyWireStats } from './wire-sink.js';

export interface UdpTunnelOptions {
  /** The peer's address, already resolved (an IPv4 or IPv6 literal). */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** How many source ports (sockets). @default 64 */
  readonly sourcePorts?: number;
  /** Datagrams in flight or waiting for a socket before `send` says "wait". @default 4096 */
  readonly queuePackets?: number;
  /** Kernel send buffer per socket, bytes. @default 1048576 */
  readonly sendBufferSize?: number;
}

/** A healthy slot asks for one send in this many to be confirmed... */
const CONFIRM_EVERY = 256;
/** ...and for one at least every this many ms, so a slow sender's errors are counted too. */
const CONFIRM_MS = 10;
/** Every this many + 1 sends it looks at the clock and whether libuv queues (not every send: a native call each). */
const LOOK_MASK = 7;
/** After an error, a slot confirms this many sends one by one. */
const ERROR_WATCH_SENDS = 4096;

interface Slot {
  socket: dgram.Socket;
  ready: boolean;
  /** Sends since the last confirmed one, and when that was (performance.now()). */
  sinceConfirmed: number;
  confirmedAtMs: number;
  /** Sends still to confirm one by one after an error. */
  errorWatch: number;
  /** The callback of the sends it confirms, made once: no closure per datagram. */
  confirmed: (error: Error | null) => void;
  /** Settles once the socket is bound and connected, or failed to be. */
  opening: Promise<void>;
  /** Datagrams that came while the socket was binding (bounded by queuePackets overall). */
  pending: Buffer[][];
}

export class UdpTunnel {
  private readonly slots: (Slot | undefined)[];
  private readonly sourcePorts: number;
  private readonly queuePackets: number;
  private inFlight = 0;
  private pendingCount = 0;
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  /** The completion of a send `slot` confirmed. */
  private afterSendOf(slot: Slot): (error: Error | null) => void {
    return (error) => {
      this.inFlight--;
      if (error) {
        countSendError(this.stats, error);
        slot.errorWatch = ERROR_WATCH_SENDS;
      }
      if (this.drainWaiters.length > 0 && this.inFlight + this.pendingCount <= this.queuePackets >> 1) this.wakeDrainWaiters();
    };
  }

  constructor(
    private readonly options: UdpTunnelOptions,
    private readonly stats: WireStats,
  ) {
    this.sourcePorts = options.sourcePorts ?? 64;
    this.queuePackets = options.queuePackets ?? 4096;
    this.slots = new Array<Slot | undefined>(this.sourcePorts);
  }

  /**
   * Sends one datagram made of `parts` from the source port chosen by `flowHash`.
   * Returns false when the caller should wait for `drain()`; a datagram that
   * finds the queue full while a socket is still opening is dropped and counted.
   */
  send(flowHash: number, parts: Buffer[], length: number): boolean {
    if (this.closed) {
      this.stats.dropped++;
      return true;
    }
    const slotIndex = (flowHash >>> 0) % this.sourcePorts;
    const slot = this.slots[slotIndex] ?? this.openSlot(slotIndex);
    if (slot.ready) {
      this.stats.packets++;
      this.stats.bytes += length;
      this.sendNow(slot, parts);
    } else if (this.inFlight + this.pendingCount < this.queuePackets) {
      slot.pending.push(parts);
      this.pendingCount++;
    } else {
      this.stats.dropped++;
    }
    return this.inFlight + this.pendingCount < this.queuePackets;
  }

  /**
   * Hands a datagram to the slot's socket; only the sends that must be
   * confirmed (see the file comment) carry a callback and count as in flight.
   */
  private sendNow(slot: Slot, parts: Buffer[]): void {
    const socket = slot.socket;
    if (slot.errorWatch > 0) slot.errorWatch--;
    else if (++slot.sinceConfirmed < CONFIRM_EVERY && ((slot.sinceConfirmed & LOOK_MASK) !== 0 || !mustConfirm(slot))) {
      socket.send(parts);
      return;
    }
    slot.sinceConfirmed = 0;
    slot.confirmedAtMs = performance.now();
    this.inFlight++;
    socket.send(parts, slot.confirmed);
  }

  /** Datagrams libuv holds for the kernel, confirmed or not. */
  private queuedInSockets(): number {
    let queued = 0;
    for (const slot of this.slots) if (slot?.ready === true) queued += slot.socket.getSendQueueCount();
    return queued;
  }

  /**
   * Opens the socket of every source port now, so that a burst of packets (a
   * flow released whole at its close) never finds sockets still binding and
   * queue-full drops. A port that cannot be bound is counted, as on first use.
   */
  async open(): Promise<void> {
    for (let i = 0; i < this.sourcePorts; i++) if (this.slots[i] === undefined) this.openSlot(i);
    await Promise.all(this.slots.map((slot) => slot?.opening));
  }

  drain(): Promise<void> {
    if (this.inFlight + this.pendingCount <= this.queuePackets >> 1) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves once every datagram written so far was handed to the kernel (or failed to bind). */
  async flush(): Promise<void> {
    while (this.inFlight > 0 || this.pendingCount > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      if (this.inFlight > 0 || this.pendingCount > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // An unconfirmed send that libuv queued has no callback to wait for: look until none is left.
    while (this.queuedInSockets() > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Waits for datagrams in flight, then closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await Promise.all(
      this.slots.map((slot) => (slot ? new Promise<void>((resolve) => slot.socket.close(() => resolve())) : undefined)),
    );
  }

  private openSlot(slotIndex: number): Slot {
    const socket = dgram.createSocket({ type: this.options.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    const slot: Slot = {
      socket, ready: false, sinceConfirmed: 0, confirmedAtMs: -Infinity, errorWatch: 0, confirmed: () => undefined, pending: [], opening: Promise.resolve(),
    };
    slot.confirmed = this.afterSendOf(slot);
    this.slots[slotIndex] = slot;
    const firstPort = tunnelSourcePort(slotIndex, this.sourcePorts);
    slot.opening = this.bindAndConnect(slot, firstPort, Math.floor(tunnelPortCount / this.sourcePorts)).then(
      () => {
        // Errors after opening (few on a connected UDP socket) are counted, never thrown.
        socket.on('error', (error) => countSendError(this.stats, error));
        this.flushPending(slot);
      },
      (error: Error) => {
        countSendError(this.stats, error);
        this.stats.dropped += slot.pending.length;
        this.pendingCount -= slot.pending.length;
        slot.pending = [];
        this.slots[slotIndex] = undefined;
        socket.close();
        this.wakeDrainWaiters();
      },
    );
    return slot;
  }

  /** Binds to `port`, or the next free port among `tries`, else any port; then connects. */
  private async bindAndConnect(slot: Slot, port: number, tries: number): Promise<void> {
    const any = this.options.family === 6 ? '::' : '0.0.0.0';
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt < tries ? port + attempt : 0;
      try {
        await bindSocket(slot.socket, candidate, any);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || candidate === 0) {
          throw new Error(`binding a UDP tunnel socket to port ${candidate}: ${(error as Error).message}`);
        }
      }
    }
    try {
      slot.socket.setSendBufferSize(this.options.sendBufferSize ?? 1 << 20);
    } catch {
      // The kernel caps it (net.core.wmem_max); the default buffer still works.
    }
    await new Promise<void>((resolve, reject) => {
      slot.socket.once('error', reject);
      slot.socket.connect(this.options.port, this.options.address, () => {
        slot.socket.off('error', reject);
        resolve();
      });
    });
  }

  private flushPending(slot: Slot): void {
    slot.ready = true;
    const pending = slot.pending;
    slot.pending = [];
    this.pendingCount -= pending.length;
    for (const parts of pending) {
      this.stats.packets++;
      this.stats.bytes += parts.reduce((sum, part) => sum + part.length, 0);
      this.sendNow(slot, parts);
    }
    if (this.inFlight === 0) this.wakeDrainWaiters();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * A wire sink that sends over a UdpTunnel (VXLAN, GENEVE): its stats, the
 * tunnel and the lifecycle. A protocol adds its header in `write`, which hands
 * the datagram straight to `this.tunnel.send`, and its own MTU arithmetic.
 */
export abstract class UdpTunnelSink implements WireSink {
  readonly capabilities = { wire: this };
  readonly stats: WireStats = emptyWireStats();
  protected readonly tunnel: UdpTunnel;

  protected constructor(
    readonly description: string,
    options: UdpTunnelOptions,
  ) {
    this.tunnel = new UdpTunnel(options, this.stats);
  }

  abstract write(packet: Packet): boolean;

  abstract maxSegmentPayload(innerIpVersion: 4 | 6): number;

  open(): Promise<void> {
    return this.tunnel.open();
  }

  drain(): Promise<void> {
    return this.tunnel.drain();
  }

  flush(): Promise<void> {
    return this.tunnel.flush();
  }

  close(): Promise<void> {
    return this.tunnel.close();
  }
}

/** Whether the next send must be confirmed: libuv queues (the callbacks say when it drains), or none was for CONFIRM_MS. */
function mustConfirm(slot: Slot): boolean {
  return slot.socket.getSendQueueCount() > 0 || performance.now() - slot.confirmedAtMs >= CONFIRM_MS;
}

/** dgram.bind as a promise; an error event during bind rejects it. */
function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
