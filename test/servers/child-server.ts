/**
 * Test servers that run in a child process (Azurite, versitygw, fake-gcs-server) on a free
 * loopback port: started by a test, ready when the port accepts, stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export { freePort } from '../support/ports.js';

export interface ChildServer {
  readonly port: number;
  stop(): Promise<void>;
}

export interface ChildServerOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The address it listens on. @default 127.0.0.1 */
  readonly host?: string;
  /** @default 20000 */
  readonly readyTimeoutMs?: number;
}

/** Starts the child and resolves once its port accepts connections. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(options.command, options.args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (!(await accepts(options.port, options.host))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not start on port ${options.port}: ${output}`);
    }
    await sleep(100);
  }
  return { port: options.port, stop: () => stopChild(child) };
}

function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
