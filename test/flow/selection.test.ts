import { expect } from 'chai';
import type { FlowOpenRecord } from '../../stitcher/format/records.js';
import { parseAddress } from '../../stitcher/flow/cidr.js';
import { parseSelection } from '../../stitcher/flow/selection.js';

function open(client: string, serverPort: number, user?: string): FlowOpenRecord {
  const clientIp = parseAddress(client);
  return {
    type: 1,
    flowId: Buffer.alloc(16),
    tsNs: 1n,
    ipVersion: clientIp.length === 4 ? 4 : 6,
    l4: 6,
    clientIp,
    clientPort: 50000,
    serverIp: parseAddress(clientIp.length === 4 ? '192.0.2.1' : '2001:db8::1'),
    serverPort,
    tags: user === undefined ? {} : { user },
  };
}

describe('flow/selection', () => {
  it('selects everything without criteria', () => {
    const selection = parseSelection([]);
    expect(selection.matches(open('10.0.0.1', 80)), '10.0.0.1:80').to.equal(true);
    expect(selection.counts.selected).to.equal(1);
    expect(selection.description).to.equal('all flows');
  });

  it('matches user globs case-insensitively, whole string only; a flow without a user is left out', () => {
    const selection = parseSelection(['user=*@corp.example,bob?@partner.example']);
    expect(selection.matches(open('10.0.0.1', 443, 'Alice@CORP.example')), '10.0.0.1:443 Alice@CORP.example').to.equal(true);
    expect(selection.matches(open('10.0.0.1', 443, 'bob1@partner.example')), '10.0.0.1:443 bob1@partner.example').to.equal(true);
    expect(selection.matches(open('10.0.0.1', 443, 'bob12@partner.example')), '10.0.0.1:443 bob12@partner.example').to.equal(false);
    expect(selection.matches(open('10.0.0.1', 443, 'alice@corp.example.evil')), '10.0.0.1:443 alice@corp.example.evil').to.equal(false);
    expect(selection.matches(open('10.0.0.1', 443, 'alice@corpXexample')), '10.0.0.1:443 alice@corpXexample').to.equal(false);
    expect(selection.matches(open('10.0.0.1', 443)), '10.0.0.1:443').to.equal(false);
    expect(selection.counts).to.deep.equal({ selected: 2, leftOutByUser: 4, leftOutByPort: 0, leftOutBySubnet: 0 });
  });

  it('matches destination ports and ranges', () => {
    const selection = parseSelection(['port=443,8443', 'port=8000-8099']);
    expect([443, 8443, 8000, 8099, 80, 8100, 444].map((port) => selection.matches(open('10.0.0.1', port)))).to.deep.equal([
      true, true, true, true, false, false, false,
    ]);
    expect(selection.counts.leftOutByPort).to.equal(3);
  });

  it('matches IPv4 and IPv6 source subnets, never across families', () => {
    const selection = parseSelection(['subnet=10.0.0.0/8,172.16.0.0/12,fd00:1::/32']);
    expect(selection.matches(open('10.200.3.4', 80)), '10.200.3.4:80').to.equal(true);
    expect(selection.matches(open('172.31.255.255', 80)), '172.31.255.255:80').to.equal(true);
    expect(selection.matches(open('172.32.0.0', 80)), '172.32.0.0:80').to.equal(false);
    expect(selection.matches(open('fd00:1:ffff::9', 80)), 'fd00:1:ffff::9:80').to.equal(true);
    expect(selection.matches(open('fd00:2::9', 80)), 'fd00:2::9:80').to.equal(false);
    expect(selection.matches(open('::ffff:10.0.0.1', 80)), '::ffff:10.0.0.1:80').to.equal(false);
    expect(selection.counts.leftOutBySubnet).to.equal(3);
  });

  it('requires every criterion, and counts a flow under the first it fails', () => {
    const selection = parseSelection(['user=*@corp.example', 'port=443', 'subnet=10.0.0.0/8']);
    expect(selection.matches(open('10.1.1.1', 443, 'a@corp.example')), '10.1.1.1:443 a@corp.example').to.equal(true);
    expect(selection.matches(open('10.1.1.1', 443, 'a@other.example')), '10.1.1.1:443 a@other.example').to.equal(false);
    expect(selection.matches(open('10.1.1.1', 80, 'a@corp.example')), '10.1.1.1:80 a@corp.example').to.equal(false);
    expect(selection.matches(open('11.1.1.1', 443, 'a@corp.example')), '11.1.1.1:443 a@corp.example').to.equal(false);
    expect(selection.matches(open('11.1.1.1', 80, 'x@other.example')), '11.1.1.1:80 x@other.example').to.equal(false);
    expect(selection.counts).to.deep.equal({ selected: 1, leftOutByUser: 2, leftOutByPort: 1, leftOutBySubnet: 1 });
    expect(selection.leftOut).to.equal(4);
  });

  it('names the criterion or value at fault', () => {
    expect(() => parseSelection(['colour=red'])).to.throw(/^--select colour=red: unknown criterion colour, expected user, port or subnet$/);
    expect(() => parseSelection(['port=0'])).to.throw(/^--select port=0: port 0: expected 1-65535/);
    expect(() => parseSelection(['port=90-80'])).to.throw(/port 90-80/);
    expect(() => parseSelection(['subnet=10.0.0.0/40'])).to.throw(/--select subnet=10\.0\.0\.0\/40: .*prefix length 40/);
    expect(() => parseSelection(['user='])).to.throw(/expected user=value/);
    expect(() => parseSelection(['port'])).to.throw(/expected port=value/);
  });
});
