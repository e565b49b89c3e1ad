/** docs/operator.md and the Dockerfile keep their promises. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stitcherUid } from '../../operator/specs/security.js';
import { measuredMbpsPerCore, plannedMbpsPerCore, sizingTable } from '../../operator/specs/sizing.js';
import { projectRoot } from '../support/paths.js';

describe('docs/operator.md and the Dockerfile', () => {
  it('documents the sizing table the operator uses', () => {
    const docs = readFileSync(join(projectRoot, 'docs', 'operator.md'), 'utf8');
    const section = docs.slice(docs.indexOf('<!-- sizing-table -->'), docs.indexOf('<!-- /sizing-table -->'));
    const rows = section
      .split('\n')
      .filter((line) => /^\| \d/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(rows).to.deep.equal(sizingTable.map((row) => [String(row.upToMbps), String(row.shards), row.cpu, row.memory]));
  });

  it('derives the table from the measured rates it states', () => {
    const docs = readFileSync(join(projectRoot, 'docs', 'operator.md'), 'utf8');
    expect(docs).to.include(`**${Math.round(measuredMbpsPerCore / 10) * 10} Mbit/s per core**`);
    expect(docs).to.include(`**${plannedMbpsPerCore} Mbit/s**`);
    expect(docs).to.include(`each shard takes ${plannedMbpsPerCore} Mbit/s`);
  });

  it('builds an image on Node 24 that runs as the non-root user the pods ask for', () => {
    const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    expect(stages.filter((image) => !image!.startsWith('node:24'))).to.deep.equal([]);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((match) => match[1]);
    expect(users.at(-1)).to.equal(`${stitcherUid}:${stitcherUid}`);
  });
});
