/**
 * The runtime model (agentcore-control.runtime.json, what the functions bundle) against the whole
 * trimmed model: the same shapes, closed under references, every shape the functions name, and the
 * same answers from the unknown-member check, redaction and union discovery.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RUNTIME_ROOTS } from '../../../scripts/trim-model.ts';
import { unionPathsOf } from '../../../functions/domain/drift/compare.ts';
import { sensitivePathsOf } from '../../../functions/domain/redact.ts';
import { serviceModel } from '../../../functions/lib/model/service-model.ts';
import { isModeledPath, LIVE_OUTPUT_SHAPES, unknownMemberPaths } from '../../../functions/lib/model/unknown-members.ts';
import { agentCoreModel, validateShape, type ModelShape } from '../../../functions/lib/model/validate.ts';
import runtimeFile from '../../../functions/lib/model/agentcore-control.runtime.json' with { type: 'json' };
import { arbitraryForShape } from '../../domain/model-arbitraries.ts';

const FUNCTIONS = fileURLToPath(new URL('../../../functions/', import.meta.url));

function refs(shape: ModelShape): string[] {
  return [...Object.values(shape.members ?? {}).map((m) => m.shape), ...[shape.member, shape.key, shape.value].flatMap((r) => (r ? [r.shape] : []))];
}

/** Source files a function may run: everything under functions/ but the config loader (package time). */
function runtimeSources(dir = FUNCTIONS): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) return file.endsWith('/config') ? [] : runtimeSources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

describe('runtime AgentCore model', () => {
  it('holds the full model\'s shapes unchanged, closed under references, from the roots', () => {
    const names = Object.keys(agentCoreModel.shapes);
    for (const name of names) expect(agentCoreModel.shapes[name], name).toEqual(serviceModel.shapes[name]);
    for (const name of names) for (const ref of refs(agentCoreModel.shapes[name])) expect(names, `${name} -> ${ref}`).toContain(ref);
    for (const root of RUNTIME_ROOTS) expect(names).toContain(root);
    expect(names.length).toBeLessThan(Object.keys(serviceModel.shapes).length);
  });

  it('keeps the attribution of the AWS model', () => {
    expect(runtimeFile.notice).toMatch(/Apache-2\.0, Copyright Amazon\.com, Inc\. or its affiliates\). See local\/aws-models\/NOTICE/);
  });

  it('has every shape the functions name in their code (outside the config loader)', () => {
    // Error shapes are matched by name on SDK exceptions (adapters), never looked up in the model.
    const all = new Set(Object.keys(serviceModel.shapes).filter((n) => !serviceModel.shapes[n].exception));
    const named = new Set<string>();
    for (const file of runtimeSources()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`]([A-Z][A-Za-z0-9]+)['"`]/g)) if (all.has(m[1])) named.add(m[1]);
    }
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((n) => !(n in agentCoreModel.shapes))).toEqual([]);
  });

  it('gives the same unknown members, known paths, sensitive paths and unions as the full model', () => {
    for (const [kind, shape] of Object.entries(LIVE_OUTPUT_SHAPES)) {
      const body = fc.sample(arbitraryForShape(shape), { numRuns: 30, seed: kind.length });
      for (const b of body) {
        const extended = { ...(b as object), futureField: { x: 1 } };
        expect(unknownMemberPaths(shape, extended, agentCoreModel)).toEqual(unknownMemberPaths(shape, extended, serviceModel));
        expect(validateShape(shape, b, '', agentCoreModel)).toEqual(validateShape(shape, b, '', serviceModel));
      }
      for (const path of ['agentRuntimeArtifact.containerConfiguration.containerUri', 'protocolConfiguration.mcp.searchType', 'environmentVariables.*', 'nope']) {
        expect(isModeledPath(shape, path, agentCoreModel)).toBe(isModeledPath(shape, path, serviceModel));
      }
    }
    for (const roots of [['UpdateAgentRuntimeRequest', 'GetAgentRuntimeResponse'], ['UpdateGatewayRequest', 'GetGatewayResponse']]) {
      expect(sensitivePathsOf(roots, agentCoreModel)).toEqual(sensitivePathsOf(roots, serviceModel));
      for (const root of roots) expect([...unionPathsOf(agentCoreModel, root)]).toEqual([...unionPathsOf(serviceModel, root)]);
    }
  });
});
