/**
 * Reliability: secret hygiene. Sentinel values sit in runtime environment variables (live, declared
 * in the config, requested by a change request, rejected in a bad one, and behind secret
 * references: a Secrets Manager secret and an SSM SecureString that the config and a change
 * request name) and in the handlers' own process environment (AWS credentials). Then every job
 * runs through its public entry point: image push with promotion (success and UPDATE_FAILED
 * rollback), change requests (one by reference that keeps failing into the dead-letter queue),
 * drift plan and correction, a policy rollout, the CLI `plan --json`. Everything they emit is
 * collected: stdout, stderr and console output (the Powertools logger writes there), the requests
 * on the request bus, outcome events, handler results and errors, asynchronous invocation records,
 * dead letters and the DLQ's messages, Step Functions inputs, outputs and histories, CLI output.
 * None may contain a sentinel.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../local/clock.ts';
import { startStack } from '../../local/stack.ts';
import { main as cli } from '../../cli/autopilot.ts';
import { scriptHealthyPolicyMetrics } from '../../bench/rollout.ts';
import { ACCOUNT, REGION, REGISTRY, TRACKED_REPOSITORIES, buildWorld, digestOf, gatewayId, policyEngineArn, runtimeId, Scratch } from '../../bench/lib/world.ts';
import { autopilotEvents, captureOutput, errorText, newFigures, printFigures, safeJson, sfnClient } from './harness.ts';

const figures = newFigures();
afterAll(() => printFigures('secret hygiene', figures));

const S = {
  live: 'SENTINEL-live-7f3a9c1e',
  live2: 'SENTINEL-live2-b8d2e410',
  declared: 'SENTINEL-declared-c4e6a2b9',
  requested: 'SENTINEL-requested-9e1d7f53',
  rejected: 'SENTINEL-rejected-2a8c6e04',
  awsSecret: 'SENTINEL-aws-secret-5b7d9f11',
  referenced: 'SENTINEL-referenced-6a0c2e8d',
  parameter: 'SENTINEL-parameter-1f4b7d3a',
  session: 'SENTINEL-session-token-3c5e7a99',
};
const SENTINELS = Object.values(S);

describe('secret hygiene', () => {
  it('no log line, plan, event, result, error, execution history or CLI output contains a sentinel value', async () => {
    const REPO = TRACKED_REPOSITORIES[0];
    const world = buildWorld({
      runtimes: [
        // Promoted on push (success path), with a secret.
        { index: 0, options: { env: { API_TOKEN: S.live, LOG_LEVEL: 'info' } }, endpoints: [{ name: 'prod', liveVersion: 1 }],
          spec: { track: { repository: REPO, tagPolicy: { glob: 'ok-*' }, promote: { endpoints: ['prod'], rollbackOnFailure: true } } } },
        // Promoted on push of a failing image (rollback path).
        { index: 1, options: { env: { API_TOKEN: S.live2 } }, endpoints: [{ name: 'prod', liveVersion: 1 }],
          spec: { track: { repository: REPO, tagPolicy: { glob: 'bad-*' }, promote: { endpoints: ['prod'], rollbackOnFailure: true } } } },
        // Drift: a declared secret differs from the live one (the plan must not show either).
        { index: 2, options: { env: { API_TOKEN: S.live } }, spec: { drift: 'correct', desired: { environmentVariables: { API_TOKEN: S.declared } } } },
        // Change requests target this one.
        { index: 3, options: { env: { API_TOKEN: S.live2 } }, spec: {} },
        // Drift by reference: the declared values are a secret and a SecureString parameter.
        { index: 4, options: { env: { API_TOKEN: S.live } }, spec: { drift: 'correct', desired: { environmentVariables: {
          API_TOKEN: '{{resolve:secretsmanager:agentcore-autopilot/hygiene:SecretString:token}}',
          DB_PASSWORD: '{{resolve:ssm-secure:/agentcore-autopilot/hygiene/db}}',
        } } } },
      ],
      gateways: [{ index: 0, options: { policyEngine: { index: 0, mode: 'LOG_ONLY' } }, spec: { policyEngine: { arn: policyEngineArn(0), mode: 'ENFORCE' } } }],
      policyEngines: [0],
      drift: { mode: 'correct', maxCorrectionsPerRun: 50 },
    });
    const scratch = new Scratch('autopilot-secrets-');
    const configFile = scratch.writeConfig(world.config);
    const capture = captureOutput();
    const texts: string[] = [];
    const requestTexts: string[] = [];
    let handlerLogMessages = new Set<string>();
    // The handlers log at DEBUG (the most they ever write) into the capture, not to the terminal.
    const stack = await startStack({
      seed: world.seed,
      configFile,
      logLevel: 'DEBUG',
      env: { AWS_SECRET_ACCESS_KEY: S.awsSecret, AWS_SESSION_TOKEN: S.session },
    });
    const clock = stack.clock as VirtualClock;
    stack.secretsManager.put('agentcore-autopilot/hygiene', JSON.stringify({ token: S.referenced }));
    stack.ssm.put('/agentcore-autopilot/hygiene/db', S.parameter);
    try {
      const invoke = async (key: string, event: unknown) => {
        try {
          texts.push(safeJson(await stack.lambda.invoke(key, event)));
        } catch (err) {
          texts.push(errorText(err));
        }
      };
      const changeRequest = (detail: unknown, id: string) => ({
        version: '0', id, 'detail-type': 'Runtime Change Requested', source: 'agentcore-autopilot.requests', account: ACCOUNT, region: REGION,
        time: '2026-11-20T10:00:00Z', resources: [], detail,
      });

      // Redeploy: success with promotion, then a failing image with rollback.
      stack.pushImage({ repository: REPO, tags: ['ok-1'], digest: digestOf('secrets-ok') });
      await stack.settle();
      await clock.advance(10 * 60_000);
      await stack.settle();
      stack.agentcore.markImageFailing(`${REGISTRY}/${REPO}@${digestOf('secrets-bad')}`);
      stack.pushImage({ repository: REPO, tags: ['bad-1'], digest: digestOf('secrets-bad') });
      await stack.settle();
      await clock.advance(10 * 60_000);
      await stack.settle();

      // Change requests: one setting a secret (dry run and real), one rejected carrying a secret.
      await invoke('onChangeRequest', changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: { NEW_TOKEN: S.requested } } }, dryRun: true }, 'cr-dry'));
      stack.events.put(changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: { NEW_TOKEN: S.requested } } } }, 'cr-real') as never, stack.requestBus);
      await stack.settle();
      await clock.advance(10 * 60_000);
      await invoke('onChangeRequest', changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: { [`K_${S.rejected}`]: 5 } } } }, 'cr-bad-type'));
      await invoke('onChangeRequest', changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: { TOKEN: `${S.rejected}${'x'.repeat(6000)}` } } } }, 'cr-bad-size'));
      await invoke('onChangeRequest', changeRequest({ runtime: { id: 'ghostAgent-zzzzzzzzzz' }, change: { environmentVariables: { set: { TOKEN: S.rejected } } } }, 'cr-ghost'));
      // By reference: applied, and once more while the runtime stays busy (retried by Lambda, then
      // its invocation record goes to the dead-letter queue).
      const byRef = { TOKEN_REF: '{{resolve:secretsmanager:agentcore-autopilot/hygiene:SecretString:token}}', DB_REF: '{{resolve:ssm-secure:/agentcore-autopilot/hygiene/db}}' };
      stack.events.put(changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: byRef } } }, 'cr-ref') as never, stack.requestBus);
      await stack.settle();
      await clock.advance(10 * 60_000);
      const timeout = stack.serverless.functions.onChangeRequest.timeout;
      stack.serverless.functions.onChangeRequest.timeout = 10.3;
      stack.emulator.faults.addRule({ operation: 'UpdateAgentRuntime', conflicts: 10_000 });
      stack.events.put(changeRequest({ runtime: { id: runtimeId(3) }, change: { environmentVariables: { set: { ...byRef, AGAIN: '1' } } } }, 'cr-ref-dlq') as never, stack.requestBus);
      await stack.settle();
      stack.emulator.faults.clear();
      stack.serverless.functions.onChangeRequest.timeout = timeout;
      figures.deadLetters = stack.deadLetters.length;
      // The values did reach the runtimes (resolved at apply time), and only them.
      const envOf = (i: number) => (stack.agentcore.latest(stack.agentcore.getRuntime(runtimeId(i))).config as { environmentVariables?: Record<string, string> }).environmentVariables ?? {};
      figures.referencesResolved = Number(envOf(3).TOKEN_REF === S.referenced && envOf(3).DB_REF === S.parameter);

      // Drift: report-only first (plan), then a correcting run; plus a run under 500s (error paths).
      await invoke('correctDrift', { 'detail-type': 'Drift Check Requested', detail: { reportOnly: true } });
      stack.emulator.faults.setPlan({ seed: 7, rules: [{ service: 'bedrock-agentcore-control', operation: 'Update*', errorRate: 1 }] });
      await invoke('correctDrift', { trigger: 'schedule' });
      stack.emulator.faults.clear();
      await clock.advance(10 * 60_000);
      await invoke('correctDrift', { trigger: 'schedule' });

      // A policy rollout.
      scriptHealthyPolicyMetrics(stack, gatewayId(0));
      await sfnClient(stack).send(new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn('policyRollout'), name: 'secrets-rollout',
        input: JSON.stringify({ gatewayId: gatewayId(0), policyEngineArn: policyEngineArn(0), settings: { bakeMinutes: 10 } }),
      }));
      await stack.settle();

      // The CLI plan, human and JSON.
      const cliOut: string[] = [];
      const io = { stdout: (l: string) => cliOut.push(l), stderr: (l: string) => cliOut.push(l), env: { ...process.env, ...stack.env, AWS_SECRET_ACCESS_KEY: S.awsSecret }, isTTY: false };
      for (const args of [['plan', '--config', configFile], ['plan', '--config', configFile, '--json']]) {
        try {
          const code = await cli(args, io);
          cliOut.push(`exit ${code}`);
        } catch (err) {
          cliOut.push(errorText(err));
        }
      }
      texts.push(cliOut.join('\n'));
      figures.cliRuns = 2;
    } finally {
      await stack.settle().catch(() => undefined);
      const logs = capture.stop();
      texts.push(logs);
      figures.logLines = logs.split('\n').filter((l) => l.trim()).length;
      handlerLogMessages = new Set(logs.split('\n').flatMap((l) => {
        try {
          const item = JSON.parse(l) as { service?: unknown; message?: unknown };
          return item.service === 'agentcore-autopilot' && typeof item.message === 'string' ? [item.message] : [];
        } catch {
          return [];
        }
      }));
      figures.handlerLogLines = logs.split('\n').filter((l) => l.includes('"service":"agentcore-autopilot"')).length;
      // Events autopilot published (the inputs the test itself put on the bus are excluded).
      texts.push(safeJson(autopilotEvents(stack)));
      texts.push(safeJson(stack.events.deliveries.map((d) => ({ result: d.result, errors: d.errors }))));
      texts.push(safeJson(stack.deadLetters));
      texts.push(safeJson(stack.lambdaAsync.invocations.map((i) => ({ result: i.result, errors: i.errors }))));
      texts.push(safeJson(stack.sqs.listQueues().flatMap((q) => q.messages.map((m) => ({ body: m.body, attributes: m.attributes })))));
      // The requests themselves (as sent and as Lambda received them) carry references, never what
      // they name; the plaintext a caller chose to send (requested, rejected) is theirs.
      requestTexts.push(safeJson(stack.events.events.filter((e) => e.bus === stack.requestBus)));
      requestTexts.push(safeJson(stack.lambdaAsync.invocations.map((i) => i.payload)));
      figures.requestsChecked = stack.events.events.filter((e) => e.bus === stack.requestBus).length;
      const executions = stack.sfn.listExecutions();
      figures.executions = executions.length;
      texts.push(safeJson(executions.map((e) => ({ input: e.input, output: e.output, error: e.error, cause: e.cause, history: e.history }))));
      figures.eventsChecked = autopilotEvents(stack).length;
      await stack.close();
      scratch.dispose();
    }

    // The run did exercise the jobs (a test that cannot fail proves nothing), and the handlers'
    // own log lines were captured from every job: a silenced logger would leave nothing to check.
    expect(figures.logLines).toBeGreaterThan(20);
    expect(figures.handlerLogLines).toBeGreaterThan(20);
    for (const m of ['Image push received', 'Runtime update accepted', 'Runtime version checked', 'Runtime rolled back', 'Change request received', 'Drift run summary', 'Rollout preflight passed']) {
      expect(handlerLogMessages, `no "${m}" log line captured`).toContain(m);
    }
    expect([...handlerLogMessages].filter((m) => m.includes('reserved key'))).toEqual([]);
    expect(figures.executions).toBeGreaterThanOrEqual(3);
    // The references were resolved (drift and a change request), and one failure reached the DLQ.
    expect(figures.deadLetters).toBeGreaterThanOrEqual(1);
    expect(figures.referencesResolved).toBe(1);
    expect(figures.requestsChecked).toBeGreaterThanOrEqual(3);
    expect(figures.eventsChecked).toBeGreaterThan(5);

    const leaks: string[] = [];
    const checks = [
      ...texts.map((t) => [t, SENTINELS] as const),
      ...requestTexts.map((t) => [t, SENTINELS.filter((x) => x !== S.requested && x !== S.rejected)] as const),
    ];
    for (const [t, sentinels] of checks) {
      for (const s of sentinels) {
        let at = t.indexOf(s);
        while (at >= 0) {
          leaks.push(`${s} in: ...${t.slice(Math.max(0, at - 160), at + s.length + 40).replace(/\s+/g, ' ')}...`);
          at = t.indexOf(s, at + 1);
        }
      }
    }
    figures.secretLeaks = leaks.length;
    figures.textsChecked = checks.length;
    figures.bytesChecked = checks.reduce((n, [t]) => n + t.length, 0);
    if (leaks.length) console.log(leaks.slice(0, 20).join('\n'));
    expect(leaks).toEqual([]);
  });
});
