/**
 * `npm start`: the whole system on the embedded AWS stand-ins, no AWS account needed. Boots the
 * local stack from serverless.yml, seeds local/seed/scenario.yaml, loads
 * local/scenario/autopilot.config.yaml, plays the four-step scenario on a compressed clock while
 * printing its timeline, writes the HTML report, and exits 0 only if every step ended as expected.
 */
import { VirtualClock } from './clock.ts';
import { closeSync, existsSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export const HELP = `Usage: npm start -- [options]     (or: node local/start.ts [options])

Plays the agentcore-autopilot scenario end to end on the local stack (embedded AWS stand-ins,
the real handlers and state machines wired from serverless.yml, a compressed clock):
  1. an image push redeploys two tracking runtimes by digest and promotes prod
     (a multi-tag push, a duplicate event, an older semver push that is refused);
  2. drift made by hand (an env var, a policy engine relaxed to LOG_ONLY) is found by the
     schedule and corrected, the policy one through a staged rollout;
  3. a policy rollout reaches ENFORCE, another halts in LOG_ONLY (shadow deny ratio too high);
  4. a runtime promotion fails verification (error alarm) and rolls back.
Prints the timeline as it goes and writes a self-contained HTML report.

Options:
  --report FILE    where to write the HTML report (default ./autopilot-report.html)
  --no-report      do not write the report
  --keep-running   leave the stack up afterwards and print how to point the AWS CLI,
                   the SDKs or \`autopilot\` at it; Ctrl+C stops it. Its clock then flows
                   with wall time (times --speed) and the drift schedule fires from it
  --speed N        clock speed of the kept stack, a multiple of wall time (default 10:
                   a 30 s runtime update takes 3 s, a 60 min bake 6 min)
  --port N         emulator port (default: any free port)
  --verbose        also print the handlers' own logs
  --no-color       plain output
  -h, --help       show this help

Exit codes: 0 every step ended as expected, 1 a step did not (or the run failed), 2 usage error.`;

interface Flags { report?: string; keepRunning: boolean; port?: number; verbose: boolean; color: boolean; speed: number }

export function parseArgs(argv: string[]): Flags | { help: true } | string {
  const flags: Flags = { report: 'autopilot-report.html', keepRunning: false, verbose: false, color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR, speed: 10 };
  for (let i = 0; i < argv.length; i++) {
    const [arg, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = (): string | undefined => inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
    switch (arg) {
      case '-h':
      case '--help':
        return { help: true };
      case '--report': {
        const v = value();
        if (!v) return '--report needs a file path';
        flags.report = v;
        break;
      }
      case '--no-report':
        flags.report = undefined;
        break;
      case '--keep-running':
        flags.keepRunning = true;
        break;
      case '--port': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) return `--port needs a number from 0 to 65535${v === undefined ? '' : ` (got '${v}')`}`;
        flags.port = Number(v);
        break;
      }
      case '--speed': {
        const v = value();
        if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 3600) return `--speed needs a number above 0 and at most 3600${v === undefined ? '' : ` (got '${v}')`}`;
        flags.speed = Number(v);
        break;
      }
      case '--verbose':
        flags.verbose = true;
        break;
      case '--no-color':
        flags.color = false;
        break;
      default:
        return `unknown option '${argv[i]}'`;
    }
  }
  return flags;
}

/** Why `file` cannot be written, or undefined: opened for appending (and removed again if it is new). */
function unwritable(file: string): string | undefined {
  const existed = existsSync(file);
  try {
    closeSync(openSync(file, 'a'));
    if (!existed) unlinkSync(file);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOENT: `the folder ${path.dirname(file)} does not exist`, EISDIR: 'it is a directory', ENOTDIR: 'a part of the path is not a folder',
      EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'read-only file system',
    };
    return `${why[code ?? ''] ?? (err as Error).message} (${code})`;
  }
}

export async function main(argv: string[]): Promise<number> {
  const flags = parseArgs(argv);
  if (typeof flags === 'string') {
    process.stderr.write(`npm start: ${flags}\nRun 'npm start -- --help' for usage.\n`);
    return 2;
  }
  if ('help' in flags) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (flags.report) {
    // Checked before the scenario: a report that cannot be written must not cost a whole run.
    const problem = unwritable(path.resolve(flags.report));
    if (problem) {
      process.stderr.write(`npm start: cannot write the report to ${flags.report}: ${problem} (choose another --report FILE, or --no-report)\n`);
      return 2;
    }
  }
  // Loaded after the checks above, so a usage or report-path error answers at once.
  const { runScenario } = await import('./scenario/run.ts');
  const { renderReport } = await import('./report/render.ts');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out('agentcore-autopilot: playing the local scenario (embedded AWS, compressed clock)');
  const { result, stack } = await runScenario({ print: out, color: flags.color, keepStack: flags.keepRunning, handlerLogs: flags.verbose, port: flags.port });

  out('');
  for (const s of result.steps) out(`${s.ok ? 'PASS' : 'FAIL'}  step ${s.n}: ${s.title} (${s.checks.filter((c) => c.ok).length}/${s.checks.length} checks)`);
  const inv = result.invariants;
  out(`${inv.every((c) => c.ok) ? 'PASS' : 'FAIL'}  whole run (${inv.filter((c) => c.ok).length}/${inv.length} checks)`);
  out(`${result.ok ? 'Every step ended as expected' : 'Some steps did not end as expected'}: ${((result.endedAt - result.startedAt) / 3_600_000).toFixed(1)} h of scenario time in ${(result.wallMs / 1000).toFixed(1)} s.`);
  if (flags.report) {
    const file = path.resolve(flags.report);
    writeFileSync(file, renderReport(result));
    out(`Report: ${file}`);
  }

  if (stack) {
    // From now on people drive it by hand: time flows (UPDATING ends, bakes pass, the schedule fires).
    if (stack.clock instanceof VirtualClock) stack.clock.setMode('realtime', { speed: flags.speed });
    stack.events.startSchedules();
    out('');
    out(`The local stack keeps running on ${stack.url}; its clock now runs at ${flags.speed}x wall time.`);
    out('Point the AWS CLI, an SDK or autopilot at it:');
    out(`  export AWS_ENDPOINT_URL=${stack.url}`);
    out(`  export AWS_REGION=${stack.env.AWS_REGION} AWS_DEFAULT_REGION=${stack.env.AWS_REGION} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`);
    out(`  export AUTOPILOT_CONFIG_FILE=${stack.configFile}`);
    out(`  export PROMOTION_STATE_MACHINE_ARN=${stack.stateMachineArn('runtimePromotion')}`);
    out(`  export ROLLOUT_STATE_MACHINE_ARN=${stack.stateMachineArn('policyRollout')}`);
    out('  aws bedrock-agentcore-control list-agent-runtimes');
    out(`  export PATH="${path.join(REPO, 'cli/bin')}:$PATH"   # the autopilot CLI, on the project's Node`);
    out('  autopilot events --follow              # tail the local bus');
    out('Press Ctrl+C to stop.');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await stack.close();
    // Nothing waits on the clock any more: stop its timers so the process can exit.
    if (stack.clock instanceof VirtualClock) stack.clock.setMode('manual');
    out('Stopped.');
  }
  return result.ok ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      // One line: what went wrong, not where in our code.
      process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
