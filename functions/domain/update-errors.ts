/**
 * Refusals of the lossless update builders. Every one means "build nothing, do not retry": the
 * input (live resource or change) has to be fixed first. Messages and details carry field names
 * and paths only, never environment variable values or description text.
 */
import { AutopilotError } from '../lib/errors.ts';
import type { FieldIssue } from '../lib/model/validate.ts';

/** The change is malformed on its own: unknown key, wrong type, conflict, immutable field, invalid value. */
export class InvalidChangeError extends AutopilotError {}

/** The merged request (live carry-over plus change) violates the service model. */
export class InvalidUpdateRequestError extends AutopilotError {}

/** GetAgentRuntime returned no agentRuntimeArtifact: the required artifact cannot be carried over. */
export class LiveArtifactMissingError extends AutopilotError {}

/** The live resource has no roleArn and the change does not supply one (roleArn is required by Update). */
export class LiveRoleArnMissingError extends AutopilotError {}

/** The live resource lacks a field the request cannot be built without (id, name, version...). */
export class LiveFieldMissingError extends AutopilotError {}

/**
 * A union came back as the SDK's `{$unknown: [name, value]}` (a member this SDK does not know) or
 * with a member the service model does not know. Echoing it would drop or corrupt configuration.
 */
export class UnknownUnionMemberError extends AutopilotError {}

/**
 * The live resource has a top-level field that is neither carried into the update nor known to be
 * read-only. A newer SDK returns it; omitting it from the update would reset it, so refuse.
 */
export class UnmappedLiveFieldError extends AutopilotError {}

/**
 * The live resource's raw response carries members the bundled service model does not know
 * (`details.members`: their paths, never values). The SDK dropped them; a full-replace update
 * would reset them. Nothing is written until the model knows them or an operator acknowledges
 * them as read-only (config `unknownMembers.acknowledged`).
 */
export class UnknownLiveMemberError extends AutopilotError {}

/** A containerUri change was asked for but the live artifact is a codeConfiguration. */
export class ArtifactKindMismatchError extends AutopilotError {}

/** Formats validation issues (field paths and constraint messages, never values) for an error message. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.name} ${i.message}`).join('; ');
}
