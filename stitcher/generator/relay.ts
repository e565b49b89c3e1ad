/**
 * The tapping relay: listens on loopback for exactly one client, connects
 * to the real server and copies bytes both ways, handing every read to a
 * FlowTap before forwarding it. It notes who closed first and how (FIN or
 * RST) and passes a reset on to the other side, as a gateway does.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { CloseReason, Direction } from '../format/records.js';
import type { FlowTap } from './tap.js';

export interface RelayHandle {
  /** The loopback port the client connects to. */
  readonly port: number;
  /** Settles once both sides are closed and FLOW_CLOSE is recorded. */
  readonly done: Promise<CloseReason>;
  /** Stops listening and destroys both sides (a failed flow must not keep the process alive). */
  abort(): void;
}

/** Waits, when the gateway's uploads lag behind, before reading more. */
export type Backpressure = () => Promise<void> | undefined;

export async function openRelay(serverPort: number, tap: FlowTap, backpressure: Backpressure): Promise<RelayHandle> {
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;
  const sockets: Socket[] = [];
  const done = new Promise<CloseReason>((resolve, reject) => {
    listener.once('error', reject);
    listener.once('connection', (client: Socket) => {
      listener.close();
      sockets.push(client);
      relay(client, serverPort, tap, backpressure, sockets).then(resolve, reject);
    });
  });
  done.catch(() => undefined); // whoever awaits it sees the error; an abandoned relay must not crash the process
  const abort = (): void => {
    listener.close();
    for (const socket of sockets) socket.destroy();
  };
  return { port, done, abort };
}

async function relay(client: Socket, serverPort: number, tap: FlowTap, backpressure: Backpressure, sockets: Socket[]): Promise<CloseReason> {
  const server = net.connect({ port: serverPort, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  sockets.push(server);
  server.pause();
  await once(server, 'connect');
  tap.open();
  let first: CloseReason | undefined;
  const closedFirst = (reason: CloseReason): void => {
    first ??= reason;
  };
  const both = Promise.all([closed(client), closed(server)]);
  pipeTapped(client, server, Direction.ClientToServer, tap, backpressure);
  pipeTapped(server, client, Direction.ServerToClient, tap, backpressure);
  client.on('end', () => {
    closedFirst(CloseReason.FinFromClient);
    server.end();
  });
  server.on('end', () => {
    closedFirst(CloseReason.FinFromServer);
    client.end();
  });
  client.on('error', (error: NodeJS.ErrnoException) => {
    closedFirst(wasReset(error) ? CloseReason.RstFromClient : CloseReason.GatewayShutdown);
    server.resetAndDestroy();
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    closedFirst(wasReset(error) ? CloseReason.RstFromServer : CloseReason.GatewayShutdown);
    client.resetAndDestroy();
  });
  client.resume();
  server.resume();
  await both;
  const reason = first ?? CloseReason.GatewayShutdown;
  tap.close(reason);
  return reason;
}

/** Forwards `from` to `to`, tapping each read; pauses on the receiver's and on the gateway's backpressure. */
function pipeTapped(from: Socket, to: Socket, dir: Direction, tap: FlowTap, backpressure: Backpressure): void {
  from.on('data', (chunk: Buffer) => {
    tap.data(dir, chunk);
    if (to.destroyed) return;
    const flushed = to.write(chunk);
    const uploads = backpressure();
    if (flushed && uploads === undefined) return;
    from.pause();
    const waits: Promise<unknown>[] = [];
    if (!flushed) waits.push(Promise.race([once(to, 'drain'), once(to, 'close')]));
    if (uploads !== undefined) waits.push(uploads);
    void Promise.all(waits).then(() => from.resume(), () => from.resume());
  });
}

/** Resolves on 'close' whatever came before it (events.once would reject on 'error'). */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A reset shows as ECONNRESET on a read, or as EPIPE when we were writing at the time. */
function wasReset(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ECONNRESET' || error.code === 'EPIPE';
}
