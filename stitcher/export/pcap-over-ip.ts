/**
 * PCAP-over-IP: a classic pcap stream (microsecond magic 0xa1b2c3d4, the form
 * Arkime, NetworkMiner and Wireshark's `TCP@host:port` read) over TCP.
 *
 * - connect mode (`pcap-over-ip://host:57012`): connects to a listener, sends the
 *   pcap header on every connection, reconnects with doubling backoff capped at
 *   `maxBackoffMs`. While no connection is up, packets are dropped and counted:
 *   an absent sensor never grows memory.
 * - listen mode (`?listen`): serves the stream to any number of clients, each
 *   starting with the pcap header; a client that falls `clientBufferBytes`
 *   behind loses packets (counted) rather than slowing everyone else.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Packet } from '../packet/packet.js';
import { maxInnerSegmentPayload } from './mtu.js';
import type { WireSink, WireStats } from './wire-sink.js';
import { countSendError, emptyWireStats } from './wire-sink.js';

const microsecondMagic = 0xa1b2c3d4;
const linkTypeEthernet = 1;
const snapLength = 262144;
const recordHeaderLength = 16;

/** The 24-byte pcap global header every stream (and every reconnection) starts with. */
export function pcapStreamHeader(): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(microsecondMagic, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snapLength, 16);
  header.writeUInt32LE(linkTypeEthernet, 20);
  return header;
}

/** One pcap record (header and frame) in one buffer: one copy, one socket write. */
export function pcapStreamRecord(packet: Packet): Buffer {
  const frameLength = packet.header.length + packet.payload.length;
  const record = Buffer.allocUnsafe(recordHeaderLength + frameLength);
  const micros = packet.tsNs / 1000n;
  const seconds = micros / 1_000_000n;
  record.writeUInt32LE(Number(seconds), 0);
  record.writeUInt32LE(Number(micros - seconds * 1_000_000n), 4);
  record.writeUInt32LE(frameLength, 8);
  record.writeUInt32LE(frameLength, 12);
  packet.header.copy(record, recordHeaderLength);
  packet.payload.copy(record, recordHeaderLength + packet.header.length);
  return record;
}

export interface PcapOverIpOptions {
  readonly host: string;
  readonly port: number;
  /** For messages and metrics: the URL. */
  readonly description: string;
  /** Inner IP MTU the synthesised frames keep to. @default 1500 */
  readonly mtu?: number;
  /** Bytes queued on a connection before `write` says wait (connect mode). @default 4194304 */
  readonly highWaterBytes?: number;
  /** Bytes queued per connection beyond which packets are dropped. @default 16777216 */
  readonly clientBufferBytes?: number;
  /** First reconnection delay. @default 100 */
  readonly minBackoffMs?: number;
  /** Reconnection delay cap. @default 10000 */
  readonly maxBackoffMs?: number;
}

/** Connects (resolving after the first attempt, successful or not) and keeps reconnecting. */
export async function connectPcapOverIp(options: PcapOverIpOptions): Promise<WireSink> {
  const sink = new PcapOverIpClient(options);
  await sink.firstAttempt;
  return sink;
}

/** Listens on host:port; resolves once the port is bound. */
export async function listenPcapOverIp(options: PcapOverIpOptions): Promise<WireSink> {
  const sink = new PcapOverIpServer(options);
  await sink.listening;
  return sink;
}

abstract class PcapOverIpSink implements WireSink {
  readonly description: string;
  readonly capabilities = { wire: this };
  readonly stats: WireStats = emptyWireStats();

  constructor(protected readonly options: PcapOverIpOptions) {
    this.description = options.description;
  }

  abstract write(packet: Packet): boolean;
  abstract drain(): Promise<void>;
  abstract close(): Promise<void>;
  /** What was written reached the kernel on every connection (a connection that closes counts as done). */
  abstract flush(): Promise<void>;

  maxSegmentPayload(innerIpVersion: 4 | 6): number {
    return maxInnerSegmentPayload(this.options.mtu ?? 1500, { kind: 'pcap-over-ip' }, innerIpVersion);
  }

  /** Writes to one connection unless it is too far behind; true when written. */
  protected writeTo(socket: net.Socket, record: Buffer): boolean {
    if (socket.writableLength > (this.options.clientBufferBytes ?? 16 << 20)) {
      this.stats.dropped++;
      return false;
    }
    socket.write(record);
    this.stats.packets++;
    this.stats.bytes += record.length;
    return true;
  }
}

class PcapOverIpClient extends PcapOverIpSink {
  readonly firstAttempt: Promise<void>;
  private socket: net.Socket | undefined;
  private connected = false;
  private closed = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(options: PcapOverIpOptions) {
    super(options);
    this.backoffMs = options.minBackoffMs ?? 100;
    this.firstAttempt = new Promise((resolve) => this.connect(resolve));
  }

  write(packet: Packet): boolean {
    const socket = this.socket;
    if (!this.connected || !socket) {
      this.stats.dropped++;
      return true;
    }
    this.writeTo(socket, pcapStreamRecord(packet));
    return socket.writableLength < (this.options.highWaterBytes ?? 4 << 20);
  }

  drain(): Promise<void> {
    if (!this.connected || !this.socket || this.socket.writableLength < (this.options.highWaterBytes ?? 4 << 20)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async flush(): Promise<void> {
    if (this.connected && this.socket !== undefined) await socketFlushed(this.socket);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket && !socket.destroyed) await endSocket(socket);
  }

  private connect(attempted: () => void): void {
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    socket.on('connect', () => {
      this.connected = true;
      this.stats.connections++;
      this.backoffMs = this.options.minBackoffMs ?? 100;
      socket.write(pcapStreamHeader());
      attempted();
    });
    socket.on('drain', () => this.wakeDrainWaiters());
    // Listeners send nothing we need; reading it keeps a close from turning into a reset.
    socket.resume();
    socket.on('error', (error) => countSendError(this.stats, error));
    socket.on('close', () => {
      this.connected = false;
      this.wakeDrainWaiters();
      attempted();
      if (!this.closed) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 10_000);
    this.reconnectTimer = setTimeout(() => this.connect(() => undefined), delay);
    this.reconnectTimer.unref();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

class PcapOverIpServer extends PcapOverIpSink {
  readonly listening: Promise<void>;
  private readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();

  constructor(options: PcapOverIpOptions) {
    super(options);
    this.server = net.createServer((socket) => this.accept(socket));
    this.listening = new Promise((resolve, reject) => {
      this.server.once('error', (error) =>
        reject(new Error(`listening on ${options.host}:${options.port}: ${error.message}`)),
      );
      this.server.listen(options.port, options.host, () => resolve());
    });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  write(packet: Packet): boolean {
    if (this.clients.size === 0) {
      this.stats.dropped++;
      return true;
    }
    const record = pcapStreamRecord(packet);
    for (const client of this.clients) this.writeTo(client, record);
    return true;
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    await Promise.all([...this.clients].map(socketFlushed));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.clients].map((client) => endSocket(client)));
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.stats.connections++;
    this.clients.add(socket);
    socket.on('error', (error) => countSendError(this.stats, error));
    socket.on('close', () => this.clients.delete(socket));
    // Clients send nothing we need; read and discard so their writes never block them.
    socket.resume();
    socket.write(pcapStreamHeader());
  }
}

/** Resolves when the socket's queued bytes went to the kernel, or it closed ('drain' only follows a full buffer, so it is polled). */
async function socketFlushed(socket: net.Socket): Promise<void> {
  while (socket.writableLength > 0 && !socket.destroyed) await sleep(2);
}

/**
 * Sends what is queued and a FIN, then lets go: a peer that never closes its
 * side (or stops reading) must not hold `close()` forever.
 */
function endSocket(socket: net.Socket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end(() => socket.destroy());
  });
}
