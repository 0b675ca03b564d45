/**
 * The whole trimmed AgentCore Control model (agentcore-control.model.json: operations, errors and
 * every shape they reach), for what runs outside the functions: the local emulator and config
 * validation (at package time, scripts/esbuild-plugins.ts). Code a function runs uses
 * `agentCoreModel` (validate.ts), the runtime subset, so its bundle does not carry this file.
 */
import model from './agentcore-control.model.json' with { type: 'json' };
import type { ServiceModel } from './validate.ts';

export const serviceModel = model as unknown as ServiceModel;
