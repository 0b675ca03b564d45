/** The runtime-promotion input (functions/domain/redeploy/promotion.ts): its polling schedule. */
import { describe, expect, it } from 'vitest';
import { buildPromotionInput, FAST_POLL_SECONDS, FIRST_POLL_SECONDS, VERIFY_ONLY } from '../../../functions/domain/redeploy/promotion.ts';

const base = {
  runtimeId: 'agent_one-abcdefghij', newVersion: '4', previousVersion: '3',
  previousUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:${'a'.repeat(64)}`,
  newUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:${'b'.repeat(64)}`,
};

describe('buildPromotionInput polling', () => {
  it('polls every 2 s for the first minute when endpoints wait for the version', () => {
    const input = buildPromotionInput({ ...base, promote: { endpoints: ['prod'], rollbackOnFailure: true, timeoutMinutes: 30 } });
    expect(input).toMatchObject({ pollSeconds: 15, firstPollSeconds: FIRST_POLL_SECONDS, fastPollSeconds: FAST_POLL_SECONDS, timeoutSeconds: 1800 });
    expect(FIRST_POLL_SECONDS).toBe(2);
  });

  it('does not spend the quota on fast polls for a version only followed (no endpoint waits)', () => {
    const input = buildPromotionInput({ ...base, promote: VERIFY_ONLY });
    expect(input).toMatchObject({ firstPollSeconds: 2, fastPollSeconds: 0 });
  });
});
