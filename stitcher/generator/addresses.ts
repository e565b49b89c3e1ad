/**
 * Synthetic addresses as the user's host would see them: clients in
 * 10.0.0.0/8 and fd00::/8, servers in the documentation ranges
 * 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 (never routed).
 */
import type { SeededRandom } from './random.js';

export function clientAddress(random: SeededRandom, ipVersion: 4 | 6): Buffer {
  if (ipVersion === 4) return Buffer.from([10, random.int(0, 255), random.int(0, 255), random.int(1, 254)]);
  const address = random.bytes(16);
  address[0] = 0xfd;
  return address;
}

export function serverAddress(random: SeededRandom, ipVersion: 4 | 6): Buffer {
  if (ipVersion === 4) {
    const net = random.pick([[198, 51, 100], [203, 0, 113]]);
    return Buffer.from([...net, random.int(1, 254)]);
  }
  const address = random.bytes(16);
  address.writeUInt32BE(0x20010db8, 0);
  return address;
}

/** An ephemeral port as Linux picks them (32768-60999). */
export function ephemeralPort(random: SeededRandom): number {
  return random.int(32768, 60999);
}

/** `10.1.2.3:443` or `[fd00::1]:443`. */
export function formatEndpoint(address: Buffer, port: number): string {
  if (address.length === 4) return `${address.join('.')}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(address.readUInt16BE(i).toString(16));
  return `[${compressIpv6(groups)}]:${port}`;
}

/** RFC 5952: the longest run of two or more zero groups becomes `::`. */
function compressIpv6(groups: readonly string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
