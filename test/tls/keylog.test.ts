import { expect } from 'chai';
import {
  formatKeyLogLine, KEY_LOG_LABELS, KeyLogTally, MAX_KEY_LINE_CHARS, parseKeyLog, parseKeyLogLine, scanKeyLog,
} from '../../stitcher/tls/keylog.js';

const RANDOM = 'A1'.repeat(32);
const SECRET48 = 'bC'.repeat(48);
const SECRET32 = '0f'.repeat(32);

describe('parseKeyLog', () => {
  it('reads every TLS 1.2 and 1.3 label with CRLF, CR and LF line ends, comments and blank lines', () => {
    const lines = KEY_LOG_LABELS.map((label) => `${label} ${RANDOM} ${label === 'CLIENT_RANDOM' ? SECRET48 : SECRET32}`);
    const text = `# a comment\r\n${lines[0]}\r\n\r\n${lines[1]}\r${lines[2]}\n   \n${lines.slice(3).join('\n')}\n# end`;
    const { entries, tally } = parseKeyLog(text);
    expect(tally.invalid).to.equal(0);
    expect(tally.valid).to.equal(KEY_LOG_LABELS.length);
    expect(entries.map((entry) => entry.label)).to.deep.equal([...KEY_LOG_LABELS]);
    expect(entries[0]!.clientRandom).to.equal('a1'.repeat(32));
    expect(entries[0]!.secret).to.deep.equal(Buffer.from('bc'.repeat(48), 'hex'));
    expect(entries[1]!.secret.length).to.equal(32);
  });

  it('takes the secret lengths each label allows: 48 for CLIENT_RANDOM, 32 or 48 for TLS 1.3', () => {
    const lengths = [16, 32, 48, 64];
    const accepted = (label: string): number[] => lengths.filter((n) => typeof parseKeyLogLine(`${label} ${RANDOM} ${'ab'.repeat(n)}`) !== 'string');
    expect(accepted('CLIENT_RANDOM')).to.deep.equal([48]);
    for (const label of KEY_LOG_LABELS.filter((l) => l !== 'CLIENT_RANDOM')) expect(accepted(label), label).to.deep.equal([32, 48]);
  });

  it('drops labels outside the known set, counted as such', () => {
    const { entries, tally } = parseKeyLog(`ECH_SECRET ${RANDOM} ${SECRET32}\nCLIENT_RANDOM ${RANDOM} ${SECRET48}\nconstructor ${RANDOM} ${SECRET48}`);
    expect(entries).to.have.length(1);
    expect(tally.problems()).to.deep.equal({ 'unknown-label': 2 });
    expect(tally.firstInvalidLine).to.equal(1);
  });

  it('tallies malformed lines by problem with the first line number, and keeps no text of them', () => {
    const secret = 'deadbeef'.repeat(12);
    const text = [
      `CLIENT_RANDOM ${RANDOM} ${secret}`,
      `CLIENT_RANDOM ${RANDOM.slice(2)} ${secret}`,
      `CLIENT_RANDOM ${RANDOM} ${secret}zz`,
      `CLIENT_RANDOM ${RANDOM}`,
      `client_random ${RANDOM} ${secret}`,
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM} ${secret.slice(0, 20)}`,
      `CLIENT_RANDOM ${RANDOM} ${secret.slice(0, 95)}`,
      `CLIENT_RANDOM ${RANDOM} ${secret} ${'0'.repeat(MAX_KEY_LINE_CHARS)}`,
    ].join('\n');
    const { entries, tally } = parseKeyLog(text);
    expect(entries).to.have.length(1);
    expect(tally.firstInvalidLine).to.equal(2);
    expect(tally.problems()).to.deep.equal({
      'client-random': 1, 'secret-hex': 2, 'fields': 1, 'unknown-label': 1, 'secret-length': 1, 'too-long': 1,
    });
    expect(JSON.stringify(tally)).not.to.include(secret.slice(0, 16));
  });

  it('takes RSA lines of their own shape (8-byte encrypted pre-master prefix, 48-byte secret) for export only', () => {
    const prefix = '0A'.repeat(8);
    const rsa = parseKeyLogLine(`RSA ${prefix} ${SECRET48}`);
    expect(typeof rsa === 'string' ? rsa : formatKeyLogLine(rsa)).to.equal(`RSA ${'0a'.repeat(8)} ${'bc'.repeat(48)}`);
    expect(parseKeyLogLine(`RSA ${RANDOM} ${SECRET48}`)).to.equal('client-random');
    expect(parseKeyLogLine(`RSA ${prefix} ${SECRET32}`)).to.equal('secret-length');
    const { entries, tally } = parseKeyLog(`RSA ${prefix} ${SECRET48}`);
    expect(entries, 'no session entry for the key store').to.deep.equal([]);
    expect(tally.valid).to.equal(1);
  });

  it('exports the validated form only: lowercase, single spaces, nothing else of the line', () => {
    const parsed = parseKeyLogLine(`CLIENT_RANDOM\t${RANDOM}   ${SECRET48}`);
    expect(typeof parsed).to.not.equal('string');
    expect(formatKeyLogLine(parsed as Exclude<typeof parsed, string>)).to.equal(`CLIENT_RANDOM ${'a1'.repeat(32)} ${'bc'.repeat(48)}`);
  });
});

describe('scanKeyLog', () => {
  it('numbers lines across texts and counts a million malformed lines without keeping them', () => {
    const tally = new KeyLogTally();
    let visited = 0;
    const first = scanKeyLog(`CLIENT_RANDOM ${RANDOM} ${SECRET48}\r\n\r\n`, tally, () => visited++);
    expect(first).to.equal(2);
    const second = scanKeyLog('x\n'.repeat(1_000_000), tally, () => visited++, first + 1);
    expect(second).to.equal(1_000_000);
    expect(visited).to.equal(1);
    expect(tally.invalid).to.equal(1_000_000);
    expect(tally.firstInvalidLine).to.equal(3);
  });

  it('drops one enormous line as too long without splitting it', () => {
    const tally = new KeyLogTally();
    scanKeyLog(`CLIENT_RANDOM ${RANDOM} ${'a '.repeat(2_000_000)}\nCLIENT_RANDOM ${RANDOM} ${SECRET48}`, tally, () => undefined);
    expect(tally.problems()).to.deep.equal({ 'too-long': 1 });
    expect(tally.valid).to.equal(1);
  });
});
