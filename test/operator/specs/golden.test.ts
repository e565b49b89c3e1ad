/**
 * What a user gets for each example: every object the operator would create,
 * compared with test/golden/<example>.yaml. A test run only reads those files;
 * after an intended change, `make golden` rewrites them, and the diff is reviewed.
 * They compare the operator with its own earlier output, so they prove nothing
 * about the stitcher accepting it: test/contract/real-stitcher.test.ts does.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { renderExamples } from './golden-render.js';

describe('operator/specs golden files', () => {
  for (const rendered of renderExamples()) {
    it(`builds what examples/${rendered.file} asks for`, () => {
      expect(existsSync(rendered.golden), `test/golden/${rendered.file} is missing; make golden writes it`).to.equal(true);
      expect(rendered.text, `test/golden/${rendered.file} differs; make golden rewrites it (then review the diff)`).to.equal(readFileSync(rendered.golden, 'utf8'));
    });
  }
});
