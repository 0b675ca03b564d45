/**
 * Amazon ECR stand-in (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`):
 * DescribeRepositories, DescribeImages, ListImages over seeded repositories, plus `push()` for
 * scenarios, which records an image (moving its tags off older images, as ECR does) and emits one
 * `ECR Image Action` event per tag through the injected `emit` callback.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { decodeToken, encodeToken, parseTimeSpec, renderJsonError, resolveJsonTarget, toEpochSeconds } from '../json-protocol.ts';

export interface EcrImage {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: number;
  imageSizeInBytes: number;
  imageManifestMediaType: string;
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

/** The EventBridge event ECR emits for an image action (see the ECR user guide). */
export interface EcrImageActionEvent {
  version: '0';
  id: string;
  'detail-type': 'ECR Image Action';
  source: 'aws.ecr';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    result: 'SUCCESS';
    'repository-name': string;
    'image-digest': string;
    'action-type': 'PUSH';
    'image-tag'?: string;
  };
}

export interface EcrOptions {
  clock: Clock;
  account?: string;
  region?: string;
  /** Receives the events of `push()`; typically `(e) => eventBridge.put(e)`. */
  emit?: (event: EcrImageActionEvent) => unknown;
}

export interface PushOptions {
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

export interface PushResult {
  image: EcrImage;
  events: EcrImageActionEvent[];
  /** Digests of the older images that lost a tag to this push. */
  retaggedFrom: string[];
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

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

  createRepository(name: string, opts: { account?: string; region?: string; createdAt?: number; imageTagMutability?: 'MUTABLE' | 'IMMUTABLE' } = {}): EcrRepository {
    if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name) || name.length < 2 || name.length > 256) {
      throw new Error(`invalid ECR repository name "${name}"`);
    }
    const registryId = opts.account ?? this.account;
    const key = `${registryId}/${name}`;
    const existing = this.repos.get(key);
    if (existing) return existing;
    const repo: EcrRepository = {
      repositoryName: name, registryId, region: opts.region ?? this.region, createdAt: opts.createdAt ?? this.clock.now(),
      imageTagMutability: opts.imageTagMutability ?? 'MUTABLE', images: [],
    };
    this.repos.set(key, repo);
    return repo;
  }

  getRepository(name: string, account?: string): EcrRepository | undefined {
    return this.repos.get(`${account ?? this.account}/${name}`);
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
        this.record({ repository: r.name, tags: img.tags, digest: img.digest, account, region, sizeInBytes: img.size, pushedAt: img.at });
      }
    }
  }

  /** Records a pushed image and emits one `ECR Image Action` event per tag (one without a tag for a digest-only push). */
  push(opts: PushOptions): PushResult {
    const { image, retaggedFrom, repo } = this.record(opts);
    const tags = opts.tags && opts.tags.length > 0 ? opts.tags : [undefined];
    const events = tags.map((tag): EcrImageActionEvent => ({
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: repo.registryId,
      time: new Date(image.imagePushedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: opts.region ?? repo.region,
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': repo.repositoryName,
        'image-digest': image.imageDigest,
        'action-type': 'PUSH',
        ...(tag === undefined ? {} : { 'image-tag': tag }),
      },
    }));
    for (const e of events) this.emit?.(e);
    return { image: { ...image, imageTags: [...image.imageTags] }, events, retaggedFrom };
  }

  private record(opts: PushOptions): { image: EcrImage; retaggedFrom: string[]; repo: EcrRepository } {
    const repo = this.getRepository(opts.repository, opts.account);
    if (!repo) throw repositoryNotFound(opts.repository, opts.account ?? this.account);
    const tags = [...new Set(opts.tags ?? [])];
    for (const t of tags) if (!TAG_RE.test(t)) throw new Error(`invalid image tag "${t}"`);
    const pushedAt = opts.pushedAt ?? this.clock.now();
    const digest = opts.digest ?? `sha256:${createHash('sha256').update(`${repo.registryId}/${repo.repositoryName}:${tags.join(',')}@${pushedAt}#${this.seq}`).digest('hex')}`;
    if (!DIGEST_RE.test(digest)) throw new Error(`invalid image digest "${digest}": expected sha256:<64 hex>`);

    const retaggedFrom: string[] = [];
    for (const other of repo.images) {
      if (other.imageDigest === digest) continue;
      const moved = other.imageTags.filter((t) => tags.includes(t));
      if (moved.length === 0) continue;
      if (repo.imageTagMutability === 'IMMUTABLE') {
        throw new AwsError('ImageTagAlreadyExistsException', 400,
          `The image tag '${moved[0]}' already exists in the '${repo.repositoryName}' repository and cannot be overwritten because the repository is immutable.`);
      }
      other.imageTags = other.imageTags.filter((t) => !tags.includes(t));
      retaggedFrom.push(other.imageDigest);
    }
    let image = repo.images.find((i) => i.imageDigest === digest);
    if (image) {
      image.imageTags = [...new Set([...image.imageTags, ...tags])];
    } else {
      image = {
        registryId: repo.registryId, repositoryName: repo.repositoryName, imageDigest: digest, imageTags: tags,
        imagePushedAt: pushedAt, imageSizeInBytes: opts.sizeInBytes ?? 48_000_000 + (this.seq % 1000) * 1024,
        imageManifestMediaType: MANIFEST_MEDIA_TYPE, seq: this.seq++,
      };
      repo.images.push(image);
    }
    return { image, retaggedFrom, repo };
  }

  // ---------------------------------------------------------------- wire protocol

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
      version: '1.1',
      operations: {
        DescribeRepositories: (i) => this.describeRepositories(i),
        DescribeImages: (i) => this.describeImages(i),
        ListImages: (i) => this.listImages(i),
      },
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.1', aliases: { InternalServerException: 'ServerException' } });
  }

  private repoFor(input: Record<string, unknown>): EcrRepository {
    const name = input.repositoryName;
    if (typeof name !== 'string' || name === '') throw new AwsError('InvalidParameterException', 400, 'repositoryName is required');
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.account;
    const repo = this.getRepository(name, registryId);
    if (!repo) throw repositoryNotFound(name, registryId);
    return repo;
  }

  private describeRepositories(input: Record<string, unknown>): unknown {
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.account;
    const names = input.repositoryNames;
    let repos: EcrRepository[];
    if (Array.isArray(names)) {
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw new AwsError('InvalidParameterException', 400, 'Invalid parameter at \'repositoryNames\' failed to satisfy constraint: \'maxResults and nextToken cannot be used together with repositoryNames\'');
      }
      repos = names.map((n) => {
        const r = this.getRepository(String(n), registryId);
        if (!r) throw repositoryNotFound(String(n), registryId);
        return r;
      });
    } else {
      repos = [...this.repos.values()].filter((r) => r.registryId === registryId);
    }
    const page = paginate(repos, input, 1000, 'DescribeRepositories');
    return {
      repositories: page.items.map((r) => ({
        repositoryArn: `arn:aws:ecr:${r.region}:${r.registryId}:repository/${r.repositoryName}`,
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        repositoryUri: `${r.registryId}.dkr.ecr.${r.region}.amazonaws.com/${r.repositoryName}`,
        createdAt: toEpochSeconds(r.createdAt),
        imageTagMutability: r.imageTagMutability,
        imageScanningConfiguration: { scanOnPush: false },
        encryptionConfiguration: { encryptionType: 'AES256' },
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  private describeImages(input: Record<string, unknown>): unknown {
    const repo = this.repoFor(input);
    const ids = input.imageIds;
    let images: EcrImage[];
    if (Array.isArray(ids)) {
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw new AwsError('InvalidParameterException', 400, "Invalid parameter at 'imageIds' failed to satisfy constraint: 'maxResults and nextToken cannot be used together with imageIds'");
      }
      if (ids.length < 1 || ids.length > 100) {
        throw new AwsError('InvalidParameterException', 400, "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'");
      }
      images = [];
      for (const raw of ids as Record<string, unknown>[]) {
        const found = this.findImage(repo, raw);
        if (!images.includes(found)) images.push(found);
      }
    } else {
      images = filterByTagStatus(repo.images, input.filter);
    }
    const page = paginate(images, input, 1000, 'DescribeImages');
    return {
      imageDetails: page.items.map((i) => ({
        registryId: i.registryId,
        repositoryName: i.repositoryName,
        imageDigest: i.imageDigest,
        ...(i.imageTags.length > 0 ? { imageTags: [...i.imageTags] } : {}),
        imageSizeInBytes: i.imageSizeInBytes,
        imagePushedAt: toEpochSeconds(i.imagePushedAt),
        imageManifestMediaType: i.imageManifestMediaType,
        artifactMediaType: 'application/vnd.docker.container.image.v1+json',
        imageStatus: 'ACTIVE',
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  private findImage(repo: EcrRepository, id: Record<string, unknown>): EcrImage {
    const tag = typeof id?.imageTag === 'string' ? id.imageTag : undefined;
    const digest = typeof id?.imageDigest === 'string' ? id.imageDigest : undefined;
    if (!tag && !digest) throw new AwsError('InvalidParameterException', 400, 'Invalid parameter at \'imageIds\': each image identifier needs an imageTag or an imageDigest');
    if (digest && !DIGEST_RE.test(digest)) {
      throw new AwsError('InvalidParameterException', 400, `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'Invalid image digest ${digest}'`);
    }
    const found = repo.images.find((i) => (!digest || i.imageDigest === digest) && (!tag || i.imageTags.includes(tag)));
    if (!found) {
      throw new AwsError('ImageNotFoundException', 400,
        `The image with imageId {imageDigest:'${digest ?? 'null'}', imageTag:'${tag ?? 'null'}'} does not exist within the repository with name '${repo.repositoryName}' in the registry with id '${repo.registryId}'`);
    }
    return found;
  }

  private listImages(input: Record<string, unknown>): unknown {
    const repo = this.repoFor(input);
    const ids: { imageDigest: string; imageTag?: string }[] = [];
    for (const i of filterByTagStatus(repo.images, input.filter)) {
      if (i.imageTags.length === 0) ids.push({ imageDigest: i.imageDigest });
      for (const t of i.imageTags) ids.push({ imageDigest: i.imageDigest, imageTag: t });
    }
    const page = paginate(ids, input, 1000, 'ListImages');
    return { imageIds: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }
}

function repositoryNotFound(name: string, registryId: string): AwsError {
  return new AwsError('RepositoryNotFoundException', 400,
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
}

function filterByTagStatus(images: EcrImage[], filter: unknown): EcrImage[] {
  const status = (filter as { tagStatus?: unknown } | undefined)?.tagStatus ?? 'ANY';
  if (status === 'ANY') return [...images];
  if (status === 'TAGGED') return images.filter((i) => i.imageTags.length > 0);
  if (status === 'UNTAGGED') return images.filter((i) => i.imageTags.length === 0);
  throw new AwsError('InvalidParameterException', 400, `Invalid parameter at 'filter.tagStatus': ${JSON.stringify(status)} is not one of TAGGED, UNTAGGED, ANY`);
}

function paginate<T>(items: T[], input: Record<string, unknown>, maxLimit: number, op: string): { items: T[]; nextToken?: string } {
  const max = input.maxResults === undefined ? maxLimit : Number(input.maxResults);
  if (!Number.isInteger(max) || max < 1 || max > maxLimit) {
    throw new AwsError('InvalidParameterException', 400, `Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and ${maxLimit}'`);
  }
  let offset = 0;
  if (typeof input.nextToken === 'string') {
    const t = decodeToken(input.nextToken);
    if (!t || t.op !== op || typeof t.offset !== 'number') throw new AwsError('InvalidParameterException', 400, "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
    offset = t.offset;
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? encodeToken({ op, offset: offset + max }) : undefined;
  return { items: page, nextToken: next };
}
