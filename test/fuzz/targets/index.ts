/** Every fuzz target, by name (`make fuzz` runs them all; `FUZZ_TARGETS=reader,keylog` picks some). */
import type { FuzzTarget } from '../harness.js';
import { target as flowTable } from './flow-table.js';
import { target as keylog } from './keylog.js';
import { target as reader } from './reader.js';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [reader, keylog, flowTable];
