/**
 * `make golden`: rewrites test/golden/<example>.yaml from the operator's current
 * output. The only writer of those files; a test run never writes them.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { projectRoot } from '../../support/paths.js';
import { renderExamples } from './golden-render.js';

for (const rendered of renderExamples()) {
  writeFileSync(rendered.golden, rendered.text);
  process.stdout.write(`wrote ${relative(projectRoot, rendered.golden)}\n`);
}
