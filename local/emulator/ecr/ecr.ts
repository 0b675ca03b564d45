/**
 * Amazon ECR stand-in (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`):
 * DescribeRepositories, DescribeImages, ListImages and BatchGetImage over seeded repositories, plus
 * `push()` and `replicate()` for scenarios.
 *
 * - ECR is regional: a request sees the repositories of the region its SigV4 credential scope
 *   names (the stand-in's region when it names none), as regional endpoints do.
 * - Images carry a manifest (manifests.ts): Docker V2 schema 2, OCI manifests, multi-platform
 *   indexes and non-image artifacts (signatures, attestations, SBOMs, Helm charts).
 * - `push()` records an image (moving its tags off older images, as ECR does) and emits one
 *   `ECR Image Action` per tag (one without `image-tag` for an untagged push), with
 *   `manifest-media-type` / `artifact-media-type` (the detail members the CDK's
 *   ECRImageActionProps lists and the ECR user guide's samples show). A multi-platform push first
 *   pushes each per-platform manifest untagged (one untagged event each), then the index.
 * - `replicate()` records an image replicated into a region and emits `ECR Replication Action`
 *   per tag (detail: result, repository-name, image-digest, source-account, action-type REPLICATE,
 *   source-region, image-tag; resources: the repository ARN), as the ECR user guide shows.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { parseTimeSpec, renderJsonError, resolveJsonTarget } from '../json-protocol.ts';
import { ecrOperations, regionOf, repositoryArn, repositoryNotFound } from './api.ts';
import { buildManifest, type ArtifactPreset, type ManifestOptions } from './manifests.ts';

export { MEDIA, type ArtifactPreset } from './manifests.ts';

export interface EcrImage {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: number;
  imageSizeInBytes: number;
  imageManifestMediaType: string;
  /** Absent for indexes. */
  artifactMediaType?: string;
  /** The manifest JSON text (what BatchGetImage returns). */
  imageManifest: string;
  /** Push order, for stable listings. */
  seq: number;
}

export interface EcrRepository {
  repositoryName: string;
  registryId: string;
  region: string;
  createdAt: number;
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE';
  images: EcrImage[];
}

/** The EventBridge events ECR emits for an image push or replication (see the ECR user guide). */
export interface EcrImageActionEvent {
  version: '0';
  id: string;
  'detail-type': 'ECR Image Action' | 'ECR Replication Action';
  source: 'aws.ecr';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    result: 'SUCCESS';
    'repository-name': string;
    'image-digest': string;
    'action-type': 'PUSH' | 'REPLICATE';
    'image-tag'?: string;
    'manifest-media-type'?: string;
    'artifact-media-type'?: string;
    'source-account'?: string;
    'source-region'?: string;
  };
}

export interface EcrOptions {
  clock: Clock;
  account?: string;
  region?: string;
  /** Receives the events of `push()` / `replicate()`; typically `(e) => eventBridge.put(e)`. */
  emit?: (event: EcrImageActionEvent) => unknown;
}

export interface PushOptions extends ManifestOptions {
  repository: string;
  tags?: string[];
  /** Default: a deterministic sha256 derived from repository, tags and time. */
  digest?: string;
  account?: string;
  region?: string;
  sizeInBytes?: number;
  /** Default clock.now(). */
  pushedAt?: number;
}

export interface ReplicateOptions extends PushOptions {
  /** The registry the image was pushed to (the replication rule's source). */
  from: { account: string; region: string };
}

export interface PushResult {
  image: EcrImage;
  /** Per-platform manifests of a multi-platform push (recorded untagged before the index). */
  children: EcrImage[];
  events: EcrImageActionEvent[];
  /** Digests of the older images that lost a tag to this push. */
  retaggedFrom: string[];
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

const timeSpec = z.union([z.string(), z.number()]);
export const ecrSeedSchema = z.object({
  account: z.string().regex(/^\d{12}$/).optional(),
  region: z.string().optional(),
  repositories: z.array(z.object({
    name: z.string().min(2),
    account: z.string().regex(/^\d{12}$/).optional(),
    region: z.string().optional(),
    createdAt: timeSpec.optional(),
    imageTagMutability: z.enum(['MUTABLE', 'IMMUTABLE']).optional(),
    images: z.array(z.object({
      tags: z.array(z.string().regex(TAG_RE)).default([]),
      digest: z.string().regex(DIGEST_RE).optional(),
      /** Relative (`-2h`) or ISO; default now. Images are recorded in pushedAt order. */
      pushedAt: timeSpec.optional(),
      size: z.number().int().nonnegative().optional(),
      mediaType: z.string().optional(),
      artifact: z.enum(['cosign-signature', 'attestation', 'sbom', 'helm-chart']).optional(),
      platforms: z.array(z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/)).optional(),
    }).strict()).default([]),
  }).strict()).default([]),
}).strict();
export type EcrSeed = z.input<typeof ecrSeedSchema>;

export class EcrStandIn implements ServiceStandIn {
  readonly name = 'ecr';
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly emit?: (event: EcrImageActionEvent) => unknown;
  private readonly repos = new Map<string, EcrRepository>();
  private seq = 0;

  constructor(opts: EcrOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
    this.emit = opts.emit;
  }

  // ---------------------------------------------------------------- scripting

  private key(name: string, account: string, region: string): string {
    return `${account}/${region}/${name}`;
  }

  createRepository(name: string, opts: { account?: string; region?: string; createdAt?: number; imageTagMutability?: 'MUTABLE' | 'IMMUTABLE' } = {}): EcrRepository {
    if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name) || name.length < 2 || name.length > 256) {
      throw new Error(`invalid ECR repository name "${name}"`);
    }
    const registryId = opts.account ?? this.account;
    const region = opts.region ?? this.region;
    const key = this.key(name, registryId, region);
    const existing = this.repos.get(key);
    if (existing) return existing;
    const repo: EcrRepository = {
      repositoryName: name, registryId, region, createdAt: opts.createdAt ?? this.clock.now(),
      imageTagMutability: opts.imageTagMutability ?? 'MUTABLE', images: [],
    };
    this.repos.set(key, repo);
    return repo;
  }

  /** A repository of `account` (default the stand-in's) in `region` (default the stand-in's). */
  getRepository(name: string, account?: string, region?: string): EcrRepository | undefined {
    return this.repos.get(this.key(name, account ?? this.account, region ?? this.region));
  }

  /** Loads a seed section (validated with ecrSeedSchema); relative times are against clock.now(). */
  seed(input: unknown): void {
    const seed = ecrSeedSchema.parse(input);
    const now = this.clock.now();
    for (const r of seed.repositories) {
      const account = r.account ?? seed.account;
      const region = r.region ?? seed.region;
      this.createRepository(r.name, {
        account, region, imageTagMutability: r.imageTagMutability,
        createdAt: r.createdAt === undefined ? undefined : parseTimeSpec(r.createdAt, now),
      });
      const images = r.images
        .map((img) => ({ ...img, at: img.pushedAt === undefined ? now : parseTimeSpec(img.pushedAt, now) }))
        .sort((a, b) => a.at - b.at);
      for (const img of images) {
        this.record({
          repository: r.name, tags: img.tags, digest: img.digest, account, region, sizeInBytes: img.size, pushedAt: img.at,
          mediaType: img.mediaType, artifact: img.artifact as ArtifactPreset | undefined, platforms: img.platforms,
        });
      }
    }
  }

  /**
   * Records a pushed image and emits one `ECR Image Action` per tag (one without a tag for an
   * untagged push); a multi-platform push emits one untagged event per platform manifest first.
   */
  push(opts: PushOptions): PushResult {
    const { image, children, retaggedFrom, repo } = this.record(opts);
    const events = [
      ...children.map((c) => this.event(repo, c, undefined, 'ECR Image Action')),
      ...tagsOrUntagged(opts.tags).map((tag) => this.event(repo, image, tag, 'ECR Image Action')),
    ];
    for (const e of events) this.emit?.(e);
    return { image: copyImage(image), children: children.map(copyImage), events, retaggedFrom };
  }

  /**
   * Records an image replicated from `from` into this registry (the destination repository is
   * created if missing, as ECR replication does) and emits `ECR Replication Action` per tag.
   */
  replicate(opts: ReplicateOptions): PushResult {
    this.createRepository(opts.repository, { account: opts.account, region: opts.region });
    const { image, children, retaggedFrom, repo } = this.record(opts);
    const source = { 'source-account': opts.from.account, 'source-region': opts.from.region };
    const events = [
      ...children.map((c) => this.event(repo, c, undefined, 'ECR Replication Action', source)),
      ...tagsOrUntagged(opts.tags).map((tag) => this.event(repo, image, tag, 'ECR Replication Action', source)),
    ];
    for (const e of events) this.emit?.(e);
    return { image: copyImage(image), children: children.map(copyImage), events, retaggedFrom };
  }

  private event(
    repo: EcrRepository, image: EcrImage, tag: string | undefined, detailType: EcrImageActionEvent['detail-type'],
    source?: { 'source-account': string; 'source-region': string },
  ): EcrImageActionEvent {
    const replication = detailType === 'ECR Replication Action';
    return {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': detailType,
      source: 'aws.ecr',
      account: repo.registryId,
      time: new Date(image.imagePushedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: repo.region,
      resources: replication ? [repositoryArn(repo)] : [],
      detail: {
        result: 'SUCCESS',
        'repository-name': repo.repositoryName,
        'image-digest': image.imageDigest,
        'action-type': replication ? 'REPLICATE' : 'PUSH',
        ...(tag === undefined ? {} : { 'image-tag': tag }),
        // The replication sample in the ECR user guide carries no media types; pushes do.
        ...(replication ? source : {
          'manifest-media-type': image.imageManifestMediaType,
          ...(image.artifactMediaType !== undefined && { 'artifact-media-type': image.artifactMediaType }),
        }),
      },
    };
  }

  private record(opts: PushOptions): { image: EcrImage; children: EcrImage[]; retaggedFrom: string[]; repo: EcrRepository } {
    const repo = this.getRepository(opts.repository, opts.account, opts.region);
    if (!repo) throw repositoryNotFound(opts.repository, opts.account ?? this.account);
    const tags = [...new Set(opts.tags ?? [])];
    for (const t of tags) if (!TAG_RE.test(t)) throw new Error(`invalid image tag "${t}"`);
    const pushedAt = opts.pushedAt ?? this.clock.now();
    const digest = opts.digest ?? `sha256:${createHash('sha256').update(`${repo.registryId}/${repo.repositoryName}:${tags.join(',')}@${pushedAt}#${this.seq}`).digest('hex')}`;
    if (!DIGEST_RE.test(digest)) throw new Error(`invalid image digest "${digest}": expected sha256:<64 hex>`);
    // The manifest text does not hash to `digest` (tests name digests); descriptors are derived from it.
    const manifest = buildManifest(opts, digest);

    const children = manifest.children.map((c) => this.store(repo, {
      digest: c.digest, tags: [], pushedAt, size: opts.sizeInBytes, mediaType: c.mediaType, artifactMediaType: c.artifactMediaType, text: c.text,
    }).image);
    const { image, retaggedFrom } = this.store(repo, {
      digest, tags, pushedAt, size: opts.sizeInBytes, mediaType: manifest.mediaType, artifactMediaType: manifest.artifactMediaType, text: manifest.text,
    });
    return { image, children, retaggedFrom, repo };
  }

  private store(
    repo: EcrRepository,
    m: { digest: string; tags: string[]; pushedAt: number; size?: number; mediaType: string; artifactMediaType?: string; text: string },
  ): { image: EcrImage; retaggedFrom: string[] } {
    const retaggedFrom: string[] = [];
    for (const other of repo.images) {
      if (other.imageDigest === m.digest) continue;
      const moved = other.imageTags.filter((t) => m.tags.includes(t));
      if (moved.length === 0) continue;
      if (repo.imageTagMutability === 'IMMUTABLE') {
        throw new AwsError('ImageTagAlreadyExistsException', 400,
          `The image tag '${moved[0]}' already exists in the '${repo.repositoryName}' repository and cannot be overwritten because the repository is immutable.`);
      }
      other.imageTags = other.imageTags.filter((t) => !m.tags.includes(t));
      retaggedFrom.push(other.imageDigest);
    }
    let image = repo.images.find((i) => i.imageDigest === m.digest);
    if (image) {
      image.imageTags = [...new Set([...image.imageTags, ...m.tags])];
    } else {
      image = {
        registryId: repo.registryId, repositoryName: repo.repositoryName, imageDigest: m.digest, imageTags: m.tags,
        imagePushedAt: m.pushedAt, imageSizeInBytes: m.size ?? 48_000_000 + (this.seq % 1000) * 1024,
        imageManifestMediaType: m.mediaType, imageManifest: m.text, seq: this.seq++,
        ...(m.artifactMediaType !== undefined && { artifactMediaType: m.artifactMediaType }),
      };
      repo.images.push(image);
    }
    return { image, retaggedFrom };
  }

  // ---------------------------------------------------------------- wire protocol

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
      version: '1.1',
      operations: ecrOperations({ account: this.account, getRepository: (n, a, r) => this.getRepository(n, a, r), repositories: () => [...this.repos.values()] }, regionOf(req) ?? this.region),
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.1', aliases: { InternalServerException: 'ServerException' } });
  }

}

function tagsOrUntagged(tags: string[] | undefined): (string | undefined)[] {
  return tags && tags.length > 0 ? [...new Set(tags)] : [undefined];
}

function copyImage(image: EcrImage): EcrImage {
  return { ...image, imageTags: [...image.imageTags] };
}

