/**
 * What a user gets for each example: every object the operator would create,
 * compared with test/golden/<example>.yaml. A test run only reads those files;
 * after an intended change, `make golden` rewrites them, and the diff is reviewed.
 * They compare the operator with its own earlier output, so they prove nothing
 * about the stitcher accepting it: test/contract/real-stitcher.test.ts does.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../support/paths.js';
import { renderExamples } from './golden-render.js';

describe('operator/specs golden files', () => {
  it('are exactly the files make golden writes (one per example), so none goes stale unseen', () => {
    const written = renderExamples().map((rendered) => rendered.file).sort();
    expect(readdirSync(join(projectRoot, 'test', 'golden')).sort(), 'test/golden/ beside what make golden writes').to.deep.equal(written);
  });

  for (const rendered of renderExamples()) {
    it(`builds what examples/${rendered.file} asks for`, () => {
      expect(existsSync(rendered.golden), `test/golden/${rendered.file} is missing; make golden writes it`).to.equal(true);
      expect(rendered.text, `test/golden/${rendered.file} differs; make golden rewrites it (then review the diff)`).to.equal(readFileSync(rendered.golden, 'utf8'));
    });
  }
});
