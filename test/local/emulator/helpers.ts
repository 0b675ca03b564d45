/** Shared setup for the emulator tests: a VirtualClock, the emulator and a real SDK client. */
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { VirtualClock } from '../../../local/clock.ts';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../local/emulator/index.ts';

export const ACCOUNT = '123456789012';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/AgentRole`;
export const image = (tag: string, repo = 'agent') => `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${repo}:${tag}`;
export const artifact = (tag: string) => ({ containerConfiguration: { containerUri: image(tag) } });

export interface Harness {
  emu: Emulator;
  clock: VirtualClock;
  client: BedrockAgentCoreControlClient;
  close(): Promise<void>;
}

/** Starts an emulator on a manual VirtualClock with a real SDK client (no retries unless asked). */
export async function harness(opts: EmulatorOptions & { maxAttempts?: number } = {}): Promise<Harness> {
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
  const { maxAttempts = 1, ...rest } = opts;
  const emu = await startEmulator({ clock, ...rest });
  const client = sdkClient(emu.url, maxAttempts);
  return {
    emu, clock, client,
    close: async () => { client.destroy(); await emu.close(); },
  };
}

export function sdkClient(url: string, maxAttempts = 1): BedrockAgentCoreControlClient {
  return new BedrockAgentCoreControlClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts,
  });
}

/** Resolves to the error a promise rejects with (fails the test when it resolves). */
export async function caught(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}
