/**
 * Real captures for the wire export tests: tcpdump started before sending,
 * stopped after, and tshark / Suricata as the judges.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Capture {
  /**
   * Lets the kernel deliver what was sent, then stops tcpdump (which flushes
   * the file); resolves to tcpdump's own count of packets the kernel dropped.
   */
  stop(): Promise<number>;
}

/** `ip netns exec NS` in front of a command when a namespace is given. */
function inNamespace(netns: string | undefined, command: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, command, ...args]] : [command, args];
}

export async function startCapture(file: string, filter: string, options: { iface?: string; netns?: string } = {}): Promise<Capture> {
  const [command, args] = inNamespace(options.netns, 'tcpdump', [
    '-i', options.iface ?? 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-B', '32768', '-w', file, filter,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening within 10 s: ${stderr.trim()}`));
    }, 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}) before listening: ${stderr.trim()}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGINT');
      const stuck = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(stuck);
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      return dropped ? Number(dropped[1]) : 0;
    },
  };
}

export { run as execFileAsync };
