import { describe, expect, it } from 'vitest';
import { validateShape } from '../../functions/lib/model/validate.ts';

const base = {
  agentRuntimeId: 'myAgent-abcdefghij',
  agentRuntimeArtifact: { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:v1' } },
  roleArn: 'arn:aws:iam::123456789012:role/AgentRole',
};

describe('validateShape', () => {
  it('accepts a minimal valid UpdateAgentRuntime request', () => {
    expect(validateShape('UpdateAgentRuntimeRequest', base)).toEqual([]);
  });

  it('names missing required members', () => {
    const { roleArn: _r, ...rest } = base;
    expect(validateShape('UpdateAgentRuntimeRequest', rest)).toEqual([{ name: 'roleArn', message: 'is required' }]);
  });

  it('matches patterns against the whole value', () => {
    const issues = validateShape('UpdateAgentRuntimeRequest', { ...base, roleArn: `x${base.roleArn}` });
    expect(issues.map((i) => i.name)).toEqual(['roleArn']);
  });

  it('checks enums, ranges, list sizes and union exactly-one', () => {
    const issues = validateShape('UpdateAgentRuntimeRequest', {
      ...base,
      agentRuntimeArtifact: { containerConfiguration: { containerUri: 'docker.io/x' }, codeConfiguration: {} },
      protocolConfiguration: { serverProtocol: 'SMTP' },
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 10 },
      requestHeaderConfiguration: { requestHeaderAllowlist: [] },
    });
    const names = issues.map((i) => i.name);
    expect(names).toContain('agentRuntimeArtifact');
    expect(names).toContain('protocolConfiguration.serverProtocol');
    expect(names).toContain('lifecycleConfiguration.idleRuntimeSessionTimeout');
    expect(names).toContain('requestHeaderConfiguration.requestHeaderAllowlist');
  });

  it('never echoes a sensitive value in its messages', () => {
    const issues = validateShape('UpdateAgentRuntimeRequest', { ...base, environmentVariables: { K: 'x'.repeat(6000) } });
    expect(issues).toHaveLength(1);
    expect(JSON.stringify(issues)).not.toContain('xxxx');
  });
});
