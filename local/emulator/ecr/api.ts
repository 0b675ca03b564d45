/**
 * The ECR stand-in's wire operations (awsJson1_1): DescribeRepositories, DescribeImages, ListImages
 * and BatchGetImage over the registry the stand-in keeps (ecr.ts). ECR is regional: every
 * operation sees the repositories of the region the request is signed for.
 */
import { AwsError, type EmulatorRequest } from '../types.ts';
import { decodeToken, encodeToken, toEpochSeconds } from '../json-protocol.ts';
import { MEDIA } from './manifests.ts';
import type { EcrImage, EcrRepository } from './ecr.ts';

/** What the operations read of the registry. */
export interface RegistryView {
  readonly account: string;
  getRepository(name: string, account?: string, region?: string): EcrRepository | undefined;
  repositories(): EcrRepository[];
}

type Op = (input: Record<string, unknown>) => unknown;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The operations for a request signed for `region`. */
export function ecrOperations(view: RegistryView, region: string): Record<string, Op> {
  function repoFor(input: Record<string, unknown>, region: string): EcrRepository {
    const name = input.repositoryName;
    if (typeof name !== 'string' || name === '') throw new AwsError('InvalidParameterException', 400, 'repositoryName is required');
    const registryId = typeof input.registryId === 'string' ? input.registryId : view.account;
    const repo = view.getRepository(name, registryId, region);
    if (!repo) throw repositoryNotFound(name, registryId);
    return repo;
  }

  function describeRepositories(input: Record<string, unknown>, region: string): unknown {
    const registryId = typeof input.registryId === 'string' ? input.registryId : view.account;
    const names = input.repositoryNames;
    let repos: EcrRepository[];
    if (Array.isArray(names)) {
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw new AwsError('InvalidParameterException', 400, 'Invalid parameter at \'repositoryNames\' failed to satisfy constraint: \'maxResults and nextToken cannot be used together with repositoryNames\'');
      }
      repos = names.map((n) => {
        const r = view.getRepository(String(n), registryId, region);
        if (!r) throw repositoryNotFound(String(n), registryId);
        return r;
      });
    } else {
      repos = view.repositories().filter((r) => r.registryId === registryId && r.region === region);
    }
    const page = paginate(repos, input, 1000, 'DescribeRepositories');
    return {
      repositories: page.items.map((r) => ({
        repositoryArn: repositoryArn(r),
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

  function describeImages(input: Record<string, unknown>, region: string): unknown {
    const repo = repoFor(input, region);
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
        const found = findImage(repo, raw);
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
        ...(i.artifactMediaType !== undefined && { artifactMediaType: i.artifactMediaType }),
        imageStatus: 'ACTIVE',
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  function findImage(repo: EcrRepository, id: Record<string, unknown>): EcrImage {
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

  /**
   * BatchGetImage (ECR API reference): the manifest of each requested image. An image that is not
   * there is a `failures` entry (ImageNotFound, "Requested image not found"), not an exception; a
   * missing repository is RepositoryNotFoundException. `acceptedMediaTypes` (1-100): a stored
   * manifest of another type is undocumented; the strict choice here is a failure entry
   * (UnsupportedImageType) instead of a converted manifest. Without it, the documented default
   * types are accepted (Docker V2 schema 1/2, OCI manifest), so an index needs the index types.
   */
  function batchGetImage(input: Record<string, unknown>, region: string): unknown {
    const repo = repoFor(input, region);
    const ids = input.imageIds;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) {
      throw new AwsError('InvalidParameterException', 400, "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'");
    }
    const accepted = input.acceptedMediaTypes;
    if (accepted !== undefined && (!Array.isArray(accepted) || accepted.length < 1 || accepted.length > 100)) {
      throw new AwsError('InvalidParameterException', 400, "Invalid parameter at 'acceptedMediaTypes' failed to satisfy constraint: 'Member must have length between 1 and 100'");
    }
    const acceptedTypes = (accepted as string[] | undefined) ?? ['application/vnd.docker.distribution.manifest.v1+json', MEDIA.dockerManifest, MEDIA.ociManifest];
    const images: unknown[] = [];
    const failures: unknown[] = [];
    for (const raw of ids as Record<string, unknown>[]) {
      const imageId = { ...(typeof raw?.imageDigest === 'string' && { imageDigest: raw.imageDigest }), ...(typeof raw?.imageTag === 'string' && { imageTag: raw.imageTag }) };
      let found: EcrImage;
      try {
        found = findImage(repo, raw);
      } catch (err) {
        if (!(err instanceof AwsError) || err.type !== 'ImageNotFoundException') throw err;
        failures.push({ imageId, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      if (!acceptedTypes.includes(found.imageManifestMediaType)) {
        failures.push({ imageId, failureCode: 'UnsupportedImageType', failureReason: `The image manifest media type ${found.imageManifestMediaType} is not among the accepted media types` });
        continue;
      }
      images.push({
        registryId: found.registryId, repositoryName: found.repositoryName,
        imageId: { imageDigest: found.imageDigest, ...(imageId.imageTag !== undefined && { imageTag: imageId.imageTag }) },
        imageManifest: found.imageManifest, imageManifestMediaType: found.imageManifestMediaType,
      });
    }
    return { images, failures };
  }

  function listImages(input: Record<string, unknown>, region: string): unknown {
    const repo = repoFor(input, region);
    const ids: { imageDigest: string; imageTag?: string }[] = [];
    for (const i of filterByTagStatus(repo.images, input.filter)) {
      if (i.imageTags.length === 0) ids.push({ imageDigest: i.imageDigest });
      for (const t of i.imageTags) ids.push({ imageDigest: i.imageDigest, imageTag: t });
    }
    const page = paginate(ids, input, 1000, 'ListImages');
    return { imageIds: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  return {
    DescribeRepositories: (i) => describeRepositories(i, region),
    DescribeImages: (i) => describeImages(i, region),
    ListImages: (i) => listImages(i, region),
    BatchGetImage: (i) => batchGetImage(i, region),
  };
}

export function repositoryArn(repo: EcrRepository): string {
  return `arn:aws:ecr:${repo.region}:${repo.registryId}:repository/${repo.repositoryName}`;
}

/** The region a SigV4-signed request is for (its credential scope), if it names one. */
export function regionOf(req: EmulatorRequest): string | undefined {
  const auth = req.headers.authorization;
  const m = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\/ecr\/aws4_request/.exec(Array.isArray(auth) ? auth[0] : auth ?? '');
  return m?.[1];
}

export function repositoryNotFound(name: string, registryId: string): AwsError {
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
