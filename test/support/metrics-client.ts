/** A stitcher's /metrics as a test reads it, and a free loopback port to serve it on. */
import { setTimeout as sleep } from 'node:timers/promises';

export { freePort } from './ports.js';

export async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Polls /metrics until `name` reaches `value` (about 30 s at most). */
export async function waitForMetric(port: number, name: string, value: number): Promise<number | undefined> {
  let seen: number | undefined;
  for (let attempt = 0; attempt < 150 && seen !== value; attempt++) {
    await sleep(200);
    seen = await metric(port, name);
  }
  return seen;
}
