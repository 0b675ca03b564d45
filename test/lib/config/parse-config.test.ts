import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AutopilotError } from '../../../functions/lib/errors.ts';
import { ConfigError, DEFAULT_ROLLOUT_SETTINGS, parseConfig, type ConfigIssue } from '../../../functions/lib/config/index.ts';

const EXAMPLE = new URL('../../../autopilot.config.yaml', import.meta.url);
const FIXTURES = new URL('../../fixtures/config/', import.meta.url);
const ENGINE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';

type Doc = Record<string, any>;

/** A small valid document; each table case breaks one thing in it. */
function baseDoc(): Doc {
  return {
    version: 1,
    runtimes: [{
      id: 'supportAgent-a1b2c3d4e5',
      desired: { roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole', environmentVariables: { LOG_LEVEL: 'info' } },
      track: { repository: 'support-agent', tagPolicy: { semver: '^1.2.0' }, promote: { endpoints: ['prod'] } },
    }],
    gateways: [{
      id: 'gw-support-k1l2m3n4o5',
      desired: { description: 'Support tools' },
      policyEngine: { arn: ENGINE_ARN, mode: 'ENFORCE', rollout: { metrics: [{ id: 'latencyP99', namespace: 'AWS/Bedrock-AgentCore', metricName: 'Latency', stat: 'p99', threshold: 2000, comparison: 'LessThanOrEqualToThreshold' }] } },
    }],
    drift: { changeWindow: { start: '09:00', end: '17:00' } },
  };
}

function issuesOf(text: string, file = 'test.yaml'): ConfigIssue[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the configuration to be rejected');
}

function errorOf(text: string, file = 'test.yaml'): ConfigError {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseConfig', () => {
  it('parses the shipped example with both runtimes and both gateways', () => {
    const config = parseConfig(readFileSync(EXAMPLE, 'utf8'), 'autopilot.config.yaml');
    expect(config.runtimes.map((r) => r.id)).toEqual(['supportAgent-a1b2c3d4e5', 'billingAgent-f6g7h8i9j0']);
    expect(config.gateways.map((g) => g.id)).toEqual(['gw-support-k1l2m3n4o5', 'gw-billing-p6q7r8s9t0']);
    expect(config.gateways.map((g) => g.policyEngine?.arn)).toEqual([
      ENGINE_ARN,
      'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0',
    ]);
    const [support, billing] = config.runtimes;
    expect(support.track?.tagPolicy).toEqual({ kind: 'semver', semver: '^1.2.0' });
    expect(support.track?.promote?.endpoints).toEqual(['prod']);
    expect(billing.track?.tagPolicy.kind).toMatch(/^(exact|glob)$/);
    expect(config.drift.changeWindow?.timezone).toBe('UTC');
  });

  it('applies every default when the file only sets the version', () => {
    const config = parseConfig(readFileSync(new URL('minimal.yaml', FIXTURES), 'utf8'), 'minimal.yaml');
    expect(config).toEqual({
      version: 1,
      events: { busName: 'default', source: 'agentcore-autopilot' },
      runtimes: [],
      gateways: [],
      drift: { mode: 'report', schedule: 'rate(15 minutes)', ignore: [], exclude: [], maxCorrectionsPerRun: 10, maxErrorRatio: 0.5, concurrency: 4 },
      redeploy: { concurrency: 4 },
      unknownMembers: { acknowledged: { runtime: [], gateway: [] } },
      policyEngines: [],
    });
  });

  it('fills resource, track, promote, policy engine and rollout defaults when they are omitted', () => {
    const doc = baseDoc();
    doc.gateways[0].policyEngine.rollout = { bakeMinutes: 90, approval: { required: true } };
    doc.drift = { mode: 'correct', changeWindow: { start: '22:00', end: '02:00' } };
    const config = parseConfig(stringify(doc), 'test.yaml');
    const runtime = config.runtimes[0];
    expect(runtime.drift).toBe('correct'); // inherited from drift.mode
    expect(runtime.ignore).toEqual([]);
    expect(runtime.track).toEqual({
      repository: 'support-agent',
      tagPolicy: { kind: 'semver', semver: '^1.2.0' },
      registry: { accounts: [], regions: [] },
      keepTag: false,
      promote: { endpoints: ['prod'], alarms: [], rollbackOnFailure: true, timeoutMinutes: 30 },
    });
    const engine = config.gateways[0].policyEngine!;
    expect(engine.tamperResponse).toBe('rollout');
    expect(engine.rollout).toEqual({ ...DEFAULT_ROLLOUT_SETTINGS, bakeMinutes: 90, approval: { required: true, timeoutMinutes: 60 } });
    expect(config.drift.changeWindow).toEqual({ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '22:00', end: '02:00', timezone: 'UTC' });
  });

  it('keeps a per-resource drift override and resolves a name reference', () => {
    const doc = baseDoc();
    doc.runtimes[0] = { name: 'supportAgent', drift: 'ignore' };
    const config = parseConfig(stringify(doc), 'test.yaml');
    expect(config.runtimes[0]).toEqual({ name: 'supportAgent', drift: 'ignore', ignore: [], desired: {} });
    expect(config.drift.mode).toBe('report');
  });

  it('returns fresh default lists and objects on every parse', () => {
    const first = parseConfig('version: 1\n', 'a.yaml');
    first.drift.ignore.push('/description');
    first.events.busName = 'changed';
    const second = parseConfig('version: 1\n', 'b.yaml');
    expect(second.drift.ignore).toEqual([]);
    expect(second.events.busName).toBe('default');
  });

  it('throws a ConfigError (an AutopilotError) listing every issue, one line each', () => {
    const doc = baseDoc();
    doc.version = 2;
    doc.runtimes[0].track.tagPolicy = { semver: 'not a range' };
    doc.gateways[0].policyEngine.mode = 'enforce';
    const err = errorOf(stringify(doc), 'autopilot.config.yaml');
    expect(err).toBeInstanceOf(AutopilotError);
    expect(err.name).toBe('ConfigError');
    expect(err.file).toBe('autopilot.config.yaml');
    expect(err.message.split('\n')).toEqual([
      'autopilot.config.yaml: version: must be 1',
      'autopilot.config.yaml: runtimes[0].track.tagPolicy.semver: must be a valid semver range (e.g. ^1.2.0, ~2.0, >=1.4 <2)',
      'autopilot.config.yaml: gateways[0].policyEngine.mode: must be one of: ENFORCE, LOG_ONLY',
    ]);
    expect(err.details).toEqual({ file: 'autopilot.config.yaml', issues: err.issues });
  });

  it('reports issues in file order with their line numbers', () => {
    const text = [
      'version: 1',             // 1
      'runtimes:',              // 2
      '  - id: bad id',         // 3
      '    track:',             // 4
      '      repository: UPPER',// 5
      '      tagPolicy:',       // 6
      '        regex: "("',     // 7
      '    desired:',           // 8
      '      environmentVariables:', // 9
      '        A: a',           // 10
      '        PORT: 8080',     // 11
      'drift:',                 // 12
      '  concurency: 4',        // 13
    ].join('\n');
    expect(issuesOf(text).map((i) => [i.path, i.line])).toEqual([
      ['runtimes[0].id', 3],
      ['runtimes[0].track.repository', 5],
      ['runtimes[0].track.tagPolicy.regex', 7],
      ['runtimes[0].desired.environmentVariables.PORT', 11],
      ['drift.concurency', 13],
    ]);
  });

  it('names the file, line and column of a YAML syntax error without printing the line', () => {
    const text = readFileSync(new URL('syntax-error.yaml', FIXTURES), 'utf8');
    const err = errorOf(text, 'syntax-error.yaml');
    expect(err.issues[0].line).toBe(7);
    expect(err.message).toMatch(/^syntax-error\.yaml:7:\d+: YAML syntax error: \S/);
    expect(err.message).not.toContain('fixture-secret-do-not-print');
  });

  it('rejects duplicate YAML keys with their line', () => {
    expect(errorOf('version: 1\ndrift: {}\ndrift: {}\n', 'dup.yaml').message).toMatch(/^dup\.yaml:3:1: YAML syntax error: Map keys must be unique/);
  });

  it('names the line of an alias whose anchor is missing', () => {
    const err = errorOf('version: 1\ndrift:\n  ignore: *paths\n', 'alias.yaml');
    expect(err.message).toBe('alias.yaml:3:11: YAML syntax error: an alias (*name) refers to an anchor (&name) that is not defined before it');
  });

  it('refuses alias expansion bombs', () => {
    const text = [
      'version: 1',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(errorOf(text, 'bomb.yaml').message).toMatch(/^bomb\.yaml:1: YAML error: too many alias expansions/);
  });

  it('rejects an empty file and a non-mapping document', () => {
    expect(issuesOf('')).toEqual([{ path: '(root)', message: 'is empty; expected a mapping that starts with "version: 1"', line: 1 }]);
    expect(issuesOf('- 1\n')).toEqual([{ path: '(root)', message: 'must be an object (got a list)', line: 1, column: 1 }]);
  });
});

interface Case {
  name: string;
  edit: (doc: Doc) => void;
  path: string;
  message: string | RegExp;
}

const cases: Case[] = [
  // types and unknown keys
  { name: 'a version other than 1', edit: (d) => { d.version = '1'; }, path: 'version', message: 'must be 1' },
  { name: 'a missing version', edit: (d) => { delete d.version; }, path: 'version', message: 'is required' },
  { name: 'runtimes given as a mapping', edit: (d) => { d.runtimes = {}; }, path: 'runtimes', message: 'must be a list (got an object)' },
  { name: 'a misspelt top-level key', edit: (d) => { d.runtime = []; }, path: 'runtime', message: /^is not a known key \(did you mean "runtimes"\?\); expected one of: version, events, runtimes, gateways, drift, redeploy, unknownMembers, policyEngines$/ },
  { name: 'an unknown key in track', edit: (d) => { d.runtimes[0].track.repo = 'x'; }, path: 'runtimes[0].track.repo', message: /^is not a known key; expected one of: repository, tagPolicy, registry, keepTag, promote$/ },
  { name: 'an unknown key in rollout approval', edit: (d) => { d.gateways[0].policyEngine.rollout.approval = { requird: true }; }, path: 'gateways[0].policyEngine.rollout.approval.requird', message: /did you mean "required"/ },
  { name: 'a string for a boolean', edit: (d) => { d.runtimes[0].track.keepTag = 'yes'; }, path: 'runtimes[0].track.keepTag', message: 'must be a boolean (got a string)' },
  { name: 'a number for a string', edit: (d) => { d.runtimes[0].track.repository = 42; }, path: 'runtimes[0].track.repository', message: 'must be a string (got an integer; quote it in YAML)' },
  { name: 'an empty section', edit: (d) => { d.runtimes[0].track = null; }, path: 'runtimes[0].track', message: 'must be an object (got an empty value)' },
  { name: 'desired given as a list', edit: (d) => { d.runtimes[0].desired = []; }, path: 'runtimes[0].desired', message: 'must be an object (got a list)' },
  // identity
  { name: 'both id and name', edit: (d) => { d.runtimes[0].name = 'supportAgent'; }, path: 'runtimes[0].name', message: 'must not be set together with id: identify the resource by exactly one of id or name' },
  { name: 'neither id nor name', edit: (d) => { delete d.gateways[0].id; }, path: 'gateways[0]', message: 'must set exactly one of id or name' },
  { name: 'a runtime id off the model pattern', edit: (d) => { d.runtimes[0].id = 'supportAgent'; }, path: 'runtimes[0].id', message: 'must match the pattern [a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}' },
  { name: 'a runtime name off the model pattern', edit: (d) => { d.runtimes[0] = { name: 'support-agent' }; }, path: 'runtimes[0].name', message: 'must match the pattern [a-zA-Z][a-zA-Z0-9_]{0,47}' },
  { name: 'an upper-case gateway id', edit: (d) => { d.gateways[0].id = 'GW-support-k1l2m3n4o5'; }, path: 'gateways[0].id', message: 'must match the pattern ([0-9a-z][-]?){1,100}-[0-9a-z]{10}' },
  { name: 'a gateway name off the model pattern', edit: (d) => { d.gateways[0] = { name: 'support_gateway' }; }, path: 'gateways[0].name', message: 'must match the pattern ([0-9a-zA-Z][-]?){1,48}' },
  { name: 'a duplicate runtime id', edit: (d) => { d.runtimes.push({ id: 'supportAgent-a1b2c3d4e5' }); }, path: 'runtimes[1].id', message: 'declares the same runtime as runtimes[0].id' },
  { name: 'a duplicate gateway name', edit: (d) => { d.gateways.push({ name: 'support' }, { name: 'support' }); }, path: 'gateways[2].name', message: 'declares the same gateway as gateways[1].name' },
  { name: 'a runtime name that the id of another entry already declares', edit: (d) => { d.runtimes.push({ name: 'supportAgent' }); }, path: 'runtimes[1].name', message: 'declares the same runtime as runtimes[0].id (runtime ids are "<name>-<suffix>")' },
  // track rules
  { name: 'an invalid semver range', edit: (d) => { d.runtimes[0].track.tagPolicy = { semver: '1.x.y.z' }; }, path: 'runtimes[0].track.tagPolicy.semver', message: 'must be a valid semver range (e.g. ^1.2.0, ~2.0, >=1.4 <2)' },
  { name: 'a regex that does not compile', edit: (d) => { d.runtimes[0].track.tagPolicy = { regex: '^v([0-9]+$' }; }, path: 'runtimes[0].track.tagPolicy.regex', message: /^is not a valid regular expression \(.+\)$/ },
  { name: 'an empty glob', edit: (d) => { d.runtimes[0].track.tagPolicy = { glob: '' }; }, path: 'runtimes[0].track.tagPolicy.glob', message: 'must not be empty' },
  { name: 'an exact tag with a colon', edit: (d) => { d.runtimes[0].track.tagPolicy = { exact: 'v1:latest' }; }, path: 'runtimes[0].track.tagPolicy.exact', message: 'must match the pattern [A-Za-z0-9_][A-Za-z0-9._-]{0,127}' },
  { name: 'an exact tag over 128 characters', edit: (d) => { d.runtimes[0].track.tagPolicy = { exact: 't'.repeat(129) }; }, path: 'runtimes[0].track.tagPolicy.exact', message: 'must match the pattern [A-Za-z0-9_][A-Za-z0-9._-]{0,127}' },
  { name: 'a glob with an unterminated class', edit: (d) => { d.runtimes[0].track.tagPolicy = { glob: 'release-[0-9*' }; }, path: 'runtimes[0].track.tagPolicy.glob', message: 'has a [ without its closing ]' },
  { name: 'a regex over 256 characters', edit: (d) => { d.runtimes[0].track.tagPolicy = { regex: 'a'.repeat(257) }; }, path: 'runtimes[0].track.tagPolicy.regex', message: 'must be at most 256 characters' },
  { name: 'two tag policies', edit: (d) => { d.runtimes[0].track.tagPolicy = { semver: '^1.0.0', glob: 'release-*' }; }, path: 'runtimes[0].track.tagPolicy', message: 'must set exactly one of exact, semver, glob, regex (got semver, glob)' },
  { name: 'no tag policy', edit: (d) => { d.runtimes[0].track.tagPolicy = {}; }, path: 'runtimes[0].track.tagPolicy', message: 'must set exactly one of exact, semver, glob, regex (got none)' },
  { name: 'an upper-case ECR repository', edit: (d) => { d.runtimes[0].track.repository = 'Support-Agent'; }, path: 'runtimes[0].track.repository', message: 'must match the pattern (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' },
  { name: 'an 11-digit account', edit: (d) => { d.runtimes[0].track.registry = { accounts: ['12345678901'] }; }, path: 'runtimes[0].track.registry.accounts[0]', message: 'must match the pattern [0-9]{12}' },
  { name: 'an unquoted account', edit: (d) => { d.runtimes[0].track.registry = { accounts: [123456789012] }; }, path: 'runtimes[0].track.registry.accounts[0]', message: 'must be a string (got an integer; quote it in YAML)' },
  { name: 'a malformed region', edit: (d) => { d.runtimes[0].track.registry = { regions: ['useast1'] }; }, path: 'runtimes[0].track.registry.regions[0]', message: 'must match the pattern [a-z]{2}(-[a-z]+)+-[0-9]{1,2}' },
  { name: 'an empty account list', edit: (d) => { d.runtimes[0].track.registry = { accounts: [] }; }, path: 'runtimes[0].track.registry.accounts', message: 'must not be empty' },
  { name: 'the DEFAULT endpoint in promote', edit: (d) => { d.runtimes[0].track.promote.endpoints = ['DEFAULT']; }, path: 'runtimes[0].track.promote.endpoints[0]', message: /^must not be DEFAULT: the DEFAULT endpoint moves to every new version by itself/ },
  { name: 'an endpoint name off the model pattern', edit: (d) => { d.runtimes[0].track.promote.endpoints = ['prod-eu']; }, path: 'runtimes[0].track.promote.endpoints[0]', message: 'must match the pattern [a-zA-Z][a-zA-Z0-9_]{0,47}' },
  { name: 'a repeated endpoint', edit: (d) => { d.runtimes[0].track.promote.endpoints = ['prod', 'canary', 'prod']; }, path: 'runtimes[0].track.promote.endpoints[2]', message: 'repeats endpoint [0]' },
  { name: 'a promote timeout of zero', edit: (d) => { d.runtimes[0].track.promote.timeoutMinutes = 0; }, path: 'runtimes[0].track.promote.timeoutMinutes', message: 'must be at least 1' },
  // desired (service model)
  { name: 'agentRuntimeId under desired', edit: (d) => { d.runtimes[0].desired.agentRuntimeId = 'supportAgent-a1b2c3d4e5'; }, path: 'runtimes[0].desired.agentRuntimeId', message: /^must not be set under desired: the runtime is identified by `id` or `name`/ },
  { name: 'clientToken under desired', edit: (d) => { d.runtimes[0].desired.clientToken = 'x'.repeat(40); }, path: 'runtimes[0].desired.clientToken', message: /^must not be set under desired: autopilot generates an idempotency token/ },
  { name: 'gatewayIdentifier under desired', edit: (d) => { d.gateways[0].desired.gatewayIdentifier = 'gw-support-k1l2m3n4o5'; }, path: 'gateways[0].desired.gatewayIdentifier', message: /^must not be set under desired: the gateway is identified by `id` or `name`/ },
  { name: 'a gateway name under desired', edit: (d) => { d.gateways[0].desired.name = 'support'; }, path: 'gateways[0].desired.name', message: /^must not be set under desired: a gateway name cannot change/ },
  { name: 'policyEngineConfiguration under desired', edit: (d) => { d.gateways[0].desired.policyEngineConfiguration = { arn: ENGINE_ARN, mode: 'ENFORCE' }; }, path: 'gateways[0].desired.policyEngineConfiguration', message: /declare it under policyEngine/ },
  { name: 'webAclArn under desired', edit: (d) => { d.gateways[0].desired.webAclArn = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x'; }, path: 'gateways[0].desired.webAclArn', message: /^is read-only \(returned by GetGateway only; UpdateGateway cannot set it\)/ },
  { name: 'an unknown desired field', edit: (d) => { d.runtimes[0].desired.descripton = 'x'; }, path: 'runtimes[0].desired.descripton', message: /^is not an UpdateAgentRuntime field \(did you mean "description"\?\); expected one of: agentRuntimeArtifact, roleArn,/ },
  { name: 'an unknown nested desired member', edit: (d) => { d.runtimes[0].desired.protocolConfiguration = { serverProtocol: 'HTTP', protocol: 'HTTP' }; }, path: 'runtimes[0].desired.protocolConfiguration.protocol', message: /^is not a field of ProtocolConfiguration/ },
  { name: 'a role ARN off the model pattern', edit: (d) => { d.runtimes[0].desired.roleArn = 'arn:aws:iam::123456789012:user/x'; }, path: 'runtimes[0].desired.roleArn', message: 'must match the pattern arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+' },
  { name: 'an enum value the model does not know', edit: (d) => { d.runtimes[0].desired.protocolConfiguration = { serverProtocol: 'SMTP' }; }, path: 'runtimes[0].desired.protocolConfiguration.serverProtocol', message: 'must be one of MCP, HTTP, A2A, AGUI' },
  { name: 'a lifecycle timeout below the model minimum', edit: (d) => { d.runtimes[0].desired.lifecycleConfiguration = { idleRuntimeSessionTimeout: 10 }; }, path: 'runtimes[0].desired.lifecycleConfiguration.idleRuntimeSessionTimeout', message: 'must be >= 60' },
  { name: 'an empty desired field', edit: (d) => { d.runtimes[0].desired.description = null; }, path: 'runtimes[0].desired.description', message: 'is empty; give it a value, or remove the key to leave the field unmanaged' },
  { name: 'more than 50 environment variables', edit: (d) => { d.runtimes[0].desired.environmentVariables = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`VAR_${i}`, 'v'])); }, path: 'runtimes[0].desired.environmentVariables', message: 'must have at most 50 entries' },
  { name: 'an unquoted environment variable value', edit: (d) => { d.runtimes[0].desired.environmentVariables = { PORT: 8080 }; }, path: 'runtimes[0].desired.environmentVariables.PORT', message: 'must be a string (got an integer; quote it in YAML)' },
  { name: 'a gateway description over 200 characters', edit: (d) => { d.gateways[0].desired.description = 'd'.repeat(201); }, path: 'gateways[0].desired.description', message: 'must be at most 200 characters' },
  { name: 'an artifact declared next to a track rule', edit: (d) => { d.runtimes[0].desired.agentRuntimeArtifact = { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent:1.2.0' } }; }, path: 'runtimes[0].desired.agentRuntimeArtifact', message: /^must not be declared when track is set/ },
  // ignore pointers
  { name: 'an ignore path that is not a JSON pointer', edit: (d) => { d.runtimes[0].ignore = ['environmentVariables.LOG_LEVEL']; }, path: 'runtimes[0].ignore[0]', message: /^must be a JSON pointer into desired, starting with "\/"/ },
  { name: 'an ignore path outside the model', edit: (d) => { d.runtimes[0].ignore = ['/lifecycleConfiguration/idle']; }, path: 'runtimes[0].ignore[0]', message: 'does not exist in the model: /lifecycleConfiguration has no field "idle" (fields: idleRuntimeSessionTimeout, maxLifetime)' },
  { name: 'a runtime field in a gateway ignore', edit: (d) => { d.gateways[0].ignore = ['/environmentVariables/LOG_LEVEL']; }, path: 'gateways[0].ignore[0]', message: 'must start with a field of UpdateGateway; "environmentVariables" is not one' },
  { name: 'a global ignore path no resource has', edit: (d) => { d.drift = { ignore: ['/tags'] }; }, path: 'drift.ignore[0]', message: 'must point to a field of UpdateAgentRuntime or UpdateGateway (e.g. /environmentVariables/LOG_LEVEL or /description)' },
  // policy engine and rollout
  { name: 'a policy engine ARN off the model pattern', edit: (d) => { d.gateways[0].policyEngine.arn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies'; }, path: 'gateways[0].policyEngine.arn', message: 'must match the pattern arn:aws(-[^:]+)?:bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:policy-engine\\/[a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9_]{10}' },
  { name: 'a lower-case engine mode', edit: (d) => { d.gateways[0].policyEngine.mode = 'enforce'; }, path: 'gateways[0].policyEngine.mode', message: 'must be one of: ENFORCE, LOG_ONLY' },
  { name: 'an unknown tamper response', edit: (d) => { d.gateways[0].policyEngine.tamperResponse = 'panic'; }, path: 'gateways[0].policyEngine.tamperResponse', message: 'must be one of: rollout, restore' },
  { name: 'a deny ratio above 1', edit: (d) => { d.gateways[0].policyEngine.rollout.maxDenyRatio = 1.5; }, path: 'gateways[0].policyEngine.rollout.maxDenyRatio', message: 'must be at most 1' },
  { name: 'a bake of zero minutes', edit: (d) => { d.gateways[0].policyEngine.rollout.bakeMinutes = 0; }, path: 'gateways[0].policyEngine.rollout.bakeMinutes', message: 'must be at least 1' },
  { name: 'fractional minutes', edit: (d) => { d.gateways[0].policyEngine.rollout.enforceBakeMinutes = 1.5; }, path: 'gateways[0].policyEngine.rollout.enforceBakeMinutes', message: 'must be an integer' },
  { name: 'a negative error budget', edit: (d) => { d.gateways[0].policyEngine.rollout.maxSystemErrors = -1; }, path: 'gateways[0].policyEngine.rollout.maxSystemErrors', message: 'must be at least 0' },
  { name: 'a deny spike ratio below 1', edit: (d) => { d.gateways[0].policyEngine.rollout.maxDenySpikeRatio = 0.5; }, path: 'gateways[0].policyEngine.rollout.maxDenySpikeRatio', message: 'must be at least 1' },
  { name: 'a repeated metric id', edit: (d) => { const m = d.gateways[0].policyEngine.rollout.metrics; m.push({ ...m[0] }); }, path: 'gateways[0].policyEngine.rollout.metrics[1]', message: 'repeats the id of metric [0]' },
  { name: 'an unknown statistic', edit: (d) => { d.gateways[0].policyEngine.rollout.metrics[0].stat = 'median'; }, path: 'gateways[0].policyEngine.rollout.metrics[0].stat', message: /^must be one of SampleCount, Average, Sum, Minimum, Maximum, IQM or a percentile-style statistic/ },
  { name: 'an unknown comparison', edit: (d) => { d.gateways[0].policyEngine.rollout.metrics[0].comparison = '<='; }, path: 'gateways[0].policyEngine.rollout.metrics[0].comparison', message: 'must be one of: GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold' },
  // drift, events, redeploy
  { name: 'a malformed schedule', edit: (d) => { d.drift = { schedule: 'every 15 minutes' }; }, path: 'drift.schedule', message: /^must be an EventBridge schedule expression: rate\(/ },
  { name: 'a plural rate unit for 1', edit: (d) => { d.drift = { schedule: 'rate(1 minutes)' }; }, path: 'drift.schedule', message: 'must use the singular unit "minute" when the value is 1' },
  { name: 'a cron with both day fields set', edit: (d) => { d.drift = { schedule: 'cron(0 12 * * MON *)' }; }, path: 'drift.schedule', message: 'must use "?" in exactly one of the day-of-month and day-of-week fields' },
  { name: 'an unknown time zone', edit: (d) => { d.drift.changeWindow.timezone = 'Mars/Olympus_Mons'; }, path: 'drift.changeWindow.timezone', message: 'is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)' },
  { name: 'an offset instead of a time zone name', edit: (d) => { d.drift.changeWindow.timezone = '+01:00'; }, path: 'drift.changeWindow.timezone', message: 'must be an IANA time zone name such as UTC or Europe/Paris' },
  { name: 'a window time without a leading zero', edit: (d) => { d.drift.changeWindow.start = '9:00'; }, path: 'drift.changeWindow.start', message: 'must be a time HH:MM from 00:00 to 23:59 (quote it in YAML)' },
  { name: 'an empty window', edit: (d) => { d.drift.changeWindow.end = '09:00'; }, path: 'drift.changeWindow.end', message: /^must differ from start/ },
  { name: 'an unknown weekday', edit: (d) => { d.drift.changeWindow.days = ['Monday']; }, path: 'drift.changeWindow.days[0]', message: 'must be one of: Mon, Tue, Wed, Thu, Fri, Sat, Sun' },
  { name: 'an error ratio above 1', edit: (d) => { d.drift.maxErrorRatio = 2; }, path: 'drift.maxErrorRatio', message: 'must be at most 1' },
  { name: 'zero concurrency', edit: (d) => { d.redeploy = { concurrency: 0 }; }, path: 'redeploy.concurrency', message: 'must be at least 1' },
  { name: 'an exclude entry that is no id or name', edit: (d) => { d.drift.exclude = ['not a resource']; }, path: 'drift.exclude[0]', message: 'must be a runtime or gateway id or name' },
  { name: 'an event source in the aws. namespace', edit: (d) => { d.events = { source: 'aws.autopilot' }; }, path: 'events.source', message: 'must not start with "aws." (reserved for AWS services)' },
];

describe('parseConfig rejects an invalid configuration', () => {
  it('accepts the unmodified base document of the table', () => {
    expect(() => parseConfig(stringify(baseDoc()), 'test.yaml')).not.toThrow();
  });

  it.each(cases)('reports $path when given $name', ({ edit, path, message }) => {
    const doc = baseDoc();
    edit(doc);
    const issues = issuesOf(stringify(doc));
    const found = issues.filter((i) => i.path === path);
    expect(found, `issues: ${JSON.stringify(issues)}`).toHaveLength(1);
    if (typeof message === 'string') expect(found[0].message).toBe(message);
    else expect(found[0].message).toMatch(message);
  });

  it('reports every issue of a file at once', () => {
    const doc = baseDoc();
    const pick = (name: string) => cases.find((c) => c.name === name)!;
    for (const name of ['a deny ratio above 1', 'a version other than 1', 'an invalid semver range', 'agentRuntimeId under desired', 'a string for a boolean']) {
      pick(name).edit(doc);
    }
    expect(issuesOf(stringify(doc)).map((i) => i.path)).toEqual([
      'version',
      'runtimes[0].desired.agentRuntimeId',
      'runtimes[0].track.tagPolicy.semver',
      'runtimes[0].track.keepTag',
      'gateways[0].policyEngine.rollout.maxDenyRatio',
    ]);
  });
});

describe('parseConfig keeps secrets out of its errors', () => {
  it('does not print an environment variable value over 5000 characters', () => {
    const secret = `sk-${'Q'.repeat(5100)}`;
    const doc = baseDoc();
    doc.runtimes[0].desired.environmentVariables = { API_TOKEN: secret };
    const err = errorOf(stringify(doc));
    expect(err.issues).toEqual([{ path: 'runtimes[0].desired.environmentVariables.API_TOKEN', message: 'must be at most 5000 characters', line: expect.any(Number), column: expect.any(Number) }]);
    expect(err.message).not.toContain('QQQQ');
    expect(JSON.stringify(err.details)).not.toContain('QQQQ');
  });

  it('never echoes an environment variable or description value, whatever is wrong with it', () => {
    const secretValue = fc.oneof(
      fc.string({ minLength: 5001, maxLength: 5200 }).map((s) => `TOPSECRET${s}`),
      fc.integer({ min: 100_000_000, max: 999_999_999 }),
      fc.string({ minLength: 8, maxLength: 40 }).map((s) => ({ nested: `TOPSECRET${s}` })),
      fc.constant(['TOPSECRET-in-a-list']),
    );
    fc.assert(fc.property(secretValue, fc.boolean(), (value, asDescription) => {
      const doc = baseDoc();
      if (asDescription) doc.gateways[0].desired.description = value;
      else doc.runtimes[0].desired.environmentVariables = { TOKEN: value };
      const err = errorOf(stringify(doc));
      const printed = `${err.message}\n${JSON.stringify(err.details)}`;
      return !printed.includes('TOPSECRET') && !(typeof value === 'number' && printed.includes(String(value)));
    }), { numRuns: 60 });
  });
});
