// Runs before every test file: prints the random seed of this run so a failure can be replayed
// with NEURITE_SEED=<seed> npm test.
import { beforeAll } from 'vitest';
import { SEED } from './helpers/random.js';

beforeAll(() => {
  if (process.env.NEURITE_QUIET_SEED !== '1') console.info(`[neurite] random seed ${SEED} (replay with NEURITE_SEED=${SEED})`);
});
