/**
 * ECR: image details (tag -> digest) and image listings for a repository.
 */
import { BatchGetImageCommand, DescribeImagesCommand, paginateDescribeImages, paginateListImages } from '@aws-sdk/client-ecr';
import type { ECRClient, ImageDetail, ImageIdentifier, TagStatus } from '@aws-sdk/client-ecr';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { callAws, collectPages } from './aws-errors.ts';

const SERVICE = 'ecr';
const PAGE_SIZE = 1000;
/** DescribeImages takes at most 100 imageIds, and refuses maxResults/nextToken beside them. */
const MAX_IMAGE_IDS = 100;

/** What BatchGetImage said about one image. */
export type ManifestLookup =
  | { state: 'found'; mediaType?: string; manifest: string }
  /** ECR has no such image (failure ImageNotFound). */
  | { state: 'missing' }
  /** ECR did not return it for another reason (e.g. its manifest type is none of the accepted ones). */
  | { state: 'refused'; failureCode: string; reason: string };

export interface RepositoryOptions {
  /** Account id owning the registry; the caller's account when omitted. */
  registryId?: string;
}

/** Typed ECR calls over an injected client. */
export class EcrAdapter {
  readonly client: ECRClient;

  constructor(client: ECRClient) {
    this.client = client;
  }

  /**
   * DescribeImages: every image of the repository (all pages), or only `imageIds` (looked up in
   * chunks of 100). A missing repository or image id raises ResourceNotFoundError.
   */
  async describeImages(repository: string, imageIds?: ImageIdentifier[], options: RepositoryOptions = {}): Promise<ImageDetail[]> {
    const context = { service: SERVICE, operation: 'DescribeImages', resource: repository };
    const base = { repositoryName: repository, ...(options.registryId !== undefined && { registryId: options.registryId }) };
    if (imageIds === undefined) {
      return collectPages(context, paginateDescribeImages({ client: this.client, pageSize: PAGE_SIZE }, base), (p) => p.imageDetails);
    }
    const details: ImageDetail[] = [];
    for (let i = 0; i < imageIds.length; i += MAX_IMAGE_IDS) {
      const chunk = imageIds.slice(i, i + MAX_IMAGE_IDS);
      const out = await callAws(context, () => this.client.send(new DescribeImagesCommand({ ...base, imageIds: chunk })));
      details.push(...(out.imageDetails ?? []));
    }
    return details;
  }

  /** The digest (`sha256:...`) the tag currently points to. */
  async getImageDigest(repository: string, tag: string, options: RepositoryOptions = {}): Promise<string> {
    const [detail] = await this.describeImages(repository, [{ imageTag: tag }], options);
    if (!detail?.imageDigest) {
      throw new ResourceNotFoundError(
        { service: SERVICE, operation: 'DescribeImages', resource: `${repository}:${tag}` },
        { message: `No image tagged "${tag}" in ECR repository ${repository}` },
      );
    }
    return detail.imageDigest;
  }

  /**
   * BatchGetImage of one digest: its manifest (JSON text) and manifest media type, accepting
   * `acceptedMediaTypes`. Per-image failures come back in the response, not as exceptions; a
   * missing repository raises ResourceNotFoundError.
   */
  async getManifest(repository: string, digest: string, acceptedMediaTypes: readonly string[], options: RepositoryOptions = {}): Promise<ManifestLookup> {
    const out = await callAws({ service: SERVICE, operation: 'BatchGetImage', resource: `${repository}@${digest}` }, () =>
      this.client.send(new BatchGetImageCommand({
        repositoryName: repository,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: [...acceptedMediaTypes],
        ...(options.registryId !== undefined && { registryId: options.registryId }),
      })),
    );
    const image = out.images?.find((i) => i.imageId?.imageDigest === digest) ?? out.images?.[0];
    if (image?.imageManifest !== undefined) {
      return { state: 'found', manifest: image.imageManifest, ...(image.imageManifestMediaType !== undefined && { mediaType: image.imageManifestMediaType }) };
    }
    const failure = out.failures?.[0];
    if (failure?.failureCode === 'ImageNotFound' || failure === undefined) return { state: 'missing' };
    return { state: 'refused', failureCode: String(failure.failureCode), reason: failure.failureReason ?? '' };
  }

  /** ListImages: every image id of the repository (all pages), optionally only TAGGED/UNTAGGED ones. */
  async listImages(repository: string, options: RepositoryOptions & { tagStatus?: TagStatus } = {}): Promise<ImageIdentifier[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListImages', resource: repository },
      paginateListImages(
        { client: this.client, pageSize: PAGE_SIZE },
        {
          repositoryName: repository,
          ...(options.registryId !== undefined && { registryId: options.registryId }),
          ...(options.tagStatus !== undefined && { filter: { tagStatus: options.tagStatus } }),
        },
      ),
      (p) => p.imageIds,
    );
  }
}
