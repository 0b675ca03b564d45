/**
 * Runs before every test file. Property tests (fast-check) use one seed per run so CI is
 * reproducible: FC_SEED=<n> replays or explores another seed (`FC_SEED=random` for a fresh one).
 */
import fc from 'fast-check';

const raw = process.env.FC_SEED ?? '20261123';
const seed = raw === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(raw);
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random" (got "${raw}")`);
if (raw === 'random') console.log(`fast-check seed: ${seed} (replay with FC_SEED=${seed})`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
