/** The desired-state configuration shared by the redeploy, rollout and drift jobs. */
export { ConfigError, formatIssue, type ConfigIssue } from './config-error.ts';
export { DEFAULT_CONFIG_FILE, loadConfig, parseConfig, type LoadConfigOptions } from './load.ts';
export {
  COMPARISON_OPERATORS, DEFAULT_ROLLOUT_SETTINGS, metricGateSchema, parseRolloutOverrides, rolloutOverridesSchema, rolloutSettingsSchema,
  type RolloutOverrides,
} from './rollout.ts';
export { checkIgnorePointer, desiredFields, parsePointer, type ResourceKind } from './desired.ts';
export { checkScheduleExpression, checkTimeZone } from './patterns.ts';
export type * from './types.ts';
