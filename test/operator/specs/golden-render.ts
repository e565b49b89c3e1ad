/**
 * Every object the operator would create for each example, as YAML: what
 * test/golden/<example>.yaml holds. These files show what a change does to the
 * operator's output in review; they are not proof that the output works (the
 * contract test runs the real stitcher on it: test/contract/real-stitcher.test.ts).
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { desiredState } from '../../../operator/specs/desired.js';
import { projectRoot } from '../../support/paths.js';
import { loadExamples, secretData } from '../support.js';

export interface RenderedExample {
  readonly file: string;
  /** Where its golden file is. */
  readonly golden: string;
  readonly text: string;
}

export function renderExamples(): RenderedExample[] {
  return loadExamples().map((example) => {
    const secretName = String((example.secret.metadata as Record<string, unknown>).name);
    const state = desiredState(example.cloudTap, { [secretName]: secretData(example.secret) });
    const text = state.objects.map((object) => stringify(object, { aliasDuplicateObjects: false })).join('---\n');
    return { file: example.file, golden: join(projectRoot, 'test', 'golden', example.file), text };
  });
}
