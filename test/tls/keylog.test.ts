import { expect } from 'chai';
import { KEY_LOG_LABELS, parseKeyLog } from '../../stitcher/tls/keylog.js';

const RANDOM = 'A1'.repeat(32);
const SECRET48 = 'bC'.repeat(48);
const SECRET32 = '0f'.repeat(32);

describe('parseKeyLog', () => {
  it('reads every TLS 1.2 and 1.3 label with CRLF, CR and LF line ends, comments and blank lines', () => {
    const lines = KEY_LOG_LABELS.map((label) => `${label} ${RANDOM} ${label === 'CLIENT_RANDOM' ? SECRET48 : SECRET32}`);
    const text = `# a comment\r\n${lines[0]}\r\n\r\n${lines[1]}\r${lines[2]}\n   \n${lines.slice(3).join('\n')}\n# end`;
    const { entries, errors } = parseKeyLog(text, 'keys/0001.keys');
    expect(errors).to.deep.equal([]);
    expect(entries.map((entry) => entry.label)).to.deep.equal([...KEY_LOG_LABELS]);
    expect(entries[0].clientRandom).to.equal('a1'.repeat(32));
    expect(entries[0].secret.equals(Buffer.from('bc'.repeat(48), 'hex'))).to.equal(true);
    expect(entries[1].secret.length).to.equal(32);
  });

  it('skips labels it does not know, so newer key logs still load', () => {
    const { entries, errors } = parseKeyLog(`ECH_SECRET ${RANDOM} ${SECRET32}\nCLIENT_RANDOM ${RANDOM} ${SECRET48}`, 'x');
    expect(errors).to.deep.equal([]);
    expect(entries).to.have.length(1);
  });

  it('reports malformed lines with object and line number, never the secret', () => {
    const secret = 'deadbeef'.repeat(12);
    const text = [
      `CLIENT_RANDOM ${RANDOM} ${secret}`,
      `CLIENT_RANDOM ${RANDOM.slice(2)} ${secret}`,
      `CLIENT_RANDOM ${RANDOM} ${secret}zz`,
      `CLIENT_RANDOM ${RANDOM}`,
      `client_random ${RANDOM} ${secret}`,
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM} ${secret.slice(0, 20)}`,
    ].join('\n');
    const { entries, errors } = parseKeyLog(text, 'gw-1/00000000000000000042.keys');
    expect(entries).to.have.length(1);
    expect(errors.map((error) => error.line)).to.deep.equal([2, 3, 4, 5, 6]);
    for (const error of errors) {
      expect(error.message).to.include('gw-1/00000000000000000042.keys').and.include(`line ${error.line}`);
      expect(error.message).not.to.include(secret.slice(0, 16));
    }
  });
});
