/**
 * The SDK parts the secret reader uses, in a module of their own so functions/adapters/secrets.ts
 * can load them with import() on first use: a bundle (code splitting) keeps them in a chunk that a
 * function whose config references no secret never parses (about 95 KiB of SSM and Secrets
 * Manager client, most of it their error classes).
 */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
