/** Mocha root hooks (loaded by .mocharc.json): the shared cluster goes down after the last suite. */
import { stopSharedCluster } from './shared.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopSharedCluster();
  },
};
