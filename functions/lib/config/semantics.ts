/**
 * Checks that span keys or resources, run on the raw parsed YAML (not zod's output) so that they
 * are reported even when some other field of the same resource is invalid. Every check tolerates
 * values of the wrong type: the schema reports those.
 */
import { isPlainObject } from '../model/validate.ts';
import { validateDesired, type ResourceKind } from './desired.ts';
import { issueAt, type RawIssue, type Segment } from './issues.ts';

const TAG_POLICY_KEYS = ['exact', 'semver', 'glob', 'regex'];

function present(obj: Record<string, unknown>, key: string): boolean {
  return obj[key] !== undefined && obj[key] !== null;
}

function checkResources(kind: ResourceKind, list: unknown, out: RawIssue[]): void {
  if (!Array.isArray(list)) return;
  const section = kind === 'runtime' ? 'runtimes' : 'gateways';
  const firstById = new Map<string, number>();
  const firstByName = new Map<string, number>();
  list.forEach((item, i) => {
    if (!isPlainObject(item)) return;
    const at: Segment[] = [section, i];
    const hasId = present(item, 'id');
    const hasName = present(item, 'name');
    if (hasId && hasName) out.push(issueAt([...at, 'name'], 'must not be set together with id: identify the resource by exactly one of id or name'));
    if (!hasId && !hasName) out.push(issueAt(at, 'must set exactly one of id or name'));

    if (typeof item.id === 'string') {
      const first = firstById.get(item.id);
      if (first !== undefined) out.push(issueAt([...at, 'id'], `declares the same ${kind} as ${section}[${first}].id`));
      else firstById.set(item.id, i);
    }
    if (typeof item.name === 'string') {
      const first = firstByName.get(item.name);
      if (first !== undefined) out.push(issueAt([...at, 'name'], `declares the same ${kind} as ${section}[${first}].name`));
      else firstByName.set(item.name, i);
    }

    if (isPlainObject(item.desired)) {
      out.push(...validateDesired(kind, item.desired, [...at, 'desired'], `${section}[${i}].desired`));
    }

    if (kind === 'runtime' && isPlainObject(item.track)) {
      const track = item.track;
      if (isPlainObject(track.tagPolicy)) {
        const set = TAG_POLICY_KEYS.filter((k) => present(track.tagPolicy as Record<string, unknown>, k));
        if (set.length !== 1) {
          out.push(issueAt([...at, 'track', 'tagPolicy'], `must set exactly one of ${TAG_POLICY_KEYS.join(', ')} (got ${set.length === 0 ? 'none' : set.join(', ')})`));
        }
      }
      if (isPlainObject(item.desired) && present(item.desired, 'agentRuntimeArtifact')) {
        // Drift would revert every image the track rule deploys.
        out.push(issueAt([...at, 'desired', 'agentRuntimeArtifact'], 'must not be declared when track is set: the track rule owns the image; remove one of them'));
      }
    }
  });

  // A runtime id is "<name>-<10 characters>", so a name and an id can declare the same runtime.
  if (kind === 'runtime') {
    for (const [name, i] of firstByName) {
      for (const [id, j] of firstById) {
        // The same entry setting both is already reported as "exactly one of id or name".
        if (i !== j && id.length === name.length + 11 && id.startsWith(`${name}-`)) {
          const [later, earlier] = i > j ? [[section, i, 'name'], `${section}[${j}].id`] : [[section, j, 'id'], `${section}[${i}].name`];
          out.push(issueAt(later as Segment[], `declares the same runtime as ${earlier} (runtime ids are "<name>-<suffix>")`));
        }
      }
    }
  }
}

/** All cross-key findings of a raw configuration document. */
export function semanticIssues(doc: unknown): RawIssue[] {
  if (!isPlainObject(doc)) return [];
  const out: RawIssue[] = [];
  checkResources('runtime', doc.runtimes, out);
  checkResources('gateway', doc.gateways, out);
  return out;
}
