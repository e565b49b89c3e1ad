/**
 * What a user gets for each example: every object the operator would create,
 * compared with test/golden/<example>.yaml. Regenerate with UPDATE_GOLDEN=1
 * after an intended change, and read the diff.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { desiredState } from '../../../operator/specs/desired.js';
import { projectRoot } from '../../support/paths.js';
import { loadExamples, secretData } from '../support.js';

const update = process.env.UPDATE_GOLDEN === '1';

describe('operator/specs golden files', () => {
  for (const example of loadExamples()) {
    it(`builds what examples/${example.file} asks for`, () => {
      const secretName = String((example.secret.metadata as Record<string, unknown>).name);
      const state = desiredState(example.cloudTap, { [secretName]: secretData(example.secret) });
      const text = state.objects.map((object) => stringify(object, { aliasDuplicateObjects: false })).join('---\n');
      const golden = join(projectRoot, 'test', 'golden', example.file);
      if (update || !existsSync(golden)) writeFileSync(golden, text);
      expect(text, `test/golden/${example.file} differs; UPDATE_GOLDEN=1 regenerates it`).to.equal(readFileSync(golden, 'utf8'));
    });
  }
});
