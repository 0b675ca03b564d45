import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, ImageNotFoundException, InvalidParameterException,
  ListImagesCommand, RepositoryNotFoundException, ServerException, paginateDescribeImages,
} from '@aws-sdk/client-ecr';
import { VirtualClock } from '../../../local/clock.ts';
import { AwsError } from '../../../local/emulator/types.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { EcrStandIn, ecrSeedSchema, type EcrImageActionEvent } from '../../../local/emulator/ecr/ecr.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

let clock: VirtualClock;
let ecr: EcrStandIn;
let emitted: EcrImageActionEvent[];
let core: HttpCore;
let client: ECRClient;

beforeEach(async () => {
  clock = new VirtualClock({ start: T0 });
  emitted = [];
  ecr = new EcrStandIn({ clock, emit: (e) => emitted.push(e) });
  ecr.seed({
    repositories: [{
      name: 'support-agent',
      images: [
        { tags: ['v1'], digest: D1, pushedAt: '-2h', size: 1000 },
        { tags: ['v2', 'latest'], digest: D2, pushedAt: '-1h', size: 2000 },
        { tags: [], pushedAt: '-3h' },
      ],
    }, { name: 'empty-repo' }],
  });
  core = await startHttpCore({ services: [ecr], clock });
  client = new ECRClient({
    endpoint: core.url, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  client.destroy();
  await core.close();
});

describe('ECR stand-in over the real SDK (awsJson1_1)', () => {
  it('sends AmazonEC2ContainerRegistry_V20150921 targets with the JSON 1.1 content type', async () => {
    const headers: Record<string, string | string[] | undefined>[] = [];
    core.server.prependListener('request', (req) => headers.push(req.headers));
    await client.send(new DescribeRepositoriesCommand({}));
    expect(headers[0]['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.DescribeRepositories');
    expect(headers[0]['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('resolves a tag to its digest and a digest to its tags', async () => {
    const byTag = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageTag: 'latest' }] }));
    expect(byTag.imageDetails).toHaveLength(1);
    const img = byTag.imageDetails![0];
    expect(img.imageDigest).toBe(D2);
    expect(img.imageTags).toEqual(['v2', 'latest']);
    expect(img.registryId).toBe('123456789012');
    expect(img.imageSizeInBytes).toBe(2000);
    expect(img.imagePushedAt).toEqual(new Date(T0 - 3600_000));

    const byDigest = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageDigest: D1 }] }));
    expect(byDigest.imageDetails![0].imageTags).toEqual(['v1']);
  });

  it('raises ImageNotFoundException and RepositoryNotFoundException as typed errors', async () => {
    const e1 = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageTag: 'v9' }] })).catch((e) => e);
    expect(e1).toBeInstanceOf(ImageNotFoundException);
    expect(e1.message).toMatch(/imageTag:'v9'/);
    expect(e1.$metadata.httpStatusCode).toBe(400);

    const e2 = await client.send(new DescribeImagesCommand({ repositoryName: 'nope' })).catch((e) => e);
    expect(e2).toBeInstanceOf(RepositoryNotFoundException);
    expect(e2.message).toBe("The repository with name 'nope' does not exist in the registry with id '123456789012'");

    await expect(client.send(new ListImagesCommand({ repositoryName: 'nope' }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
    await expect(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['support-agent', 'nope'] }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageDigest: 'sha256:short' }] })))
      .rejects.toBeInstanceOf(InvalidParameterException);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })) })))
      .rejects.toThrow(/between 1 and 100/);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageTag: 'v1' }], maxResults: 5 })))
      .rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('filters by tagStatus and paginates with maxResults/nextToken', async () => {
    const tagged = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', filter: { tagStatus: 'TAGGED' } }));
    expect(tagged.imageDetails!.map((i) => i.imageDigest)).toEqual([D1, D2]);
    const untagged = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', filter: { tagStatus: 'UNTAGGED' } }));
    expect(untagged.imageDetails).toHaveLength(1);
    expect(untagged.imageDetails![0].imageTags).toBeUndefined();

    const pages: number[] = [];
    const all: string[] = [];
    for await (const page of paginateDescribeImages({ client, pageSize: 2 }, { repositoryName: 'support-agent' })) {
      pages.push(page.imageDetails!.length);
      all.push(...page.imageDetails!.map((i) => i.imageDigest!));
    }
    expect(pages).toEqual([2, 1]);
    expect(new Set(all).size).toBe(3);

    const ids = await client.send(new ListImagesCommand({ repositoryName: 'support-agent', filter: { tagStatus: 'TAGGED' } }));
    expect(ids.imageIds).toEqual([
      { imageDigest: D1, imageTag: 'v1' }, { imageDigest: D2, imageTag: 'v2' }, { imageDigest: D2, imageTag: 'latest' },
    ]);
  });

  it('describes repositories with ARN, URI and creation time', async () => {
    const out = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['support-agent'] }));
    expect(out.repositories![0]).toMatchObject({
      repositoryName: 'support-agent',
      repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/support-agent',
      repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent',
      createdAt: new Date(T0),
      imageTagMutability: 'MUTABLE',
    });
    expect((await client.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName)).toEqual(['support-agent', 'empty-repo']);
  });
});

describe('ECR faults', () => {
  it('renders a service-neutral InternalServerException as ECR ServerException', async () => {
    await core.close();
    core = await startHttpCore({ services: [ecr], clock, faults: { before: (svc) => (svc === 'ecr' ? new AwsError('InternalServerException', 500, 'injected') : undefined) } });
    const c = new ECRClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const err = await c.send(new DescribeRepositoriesCommand({})).catch((e) => e);
    c.destroy();
    expect(err).toBeInstanceOf(ServerException);
    expect(err.message).toBe('injected');
  });
});

describe('ECR push', () => {
  it('moves tags from older images and emits one ECR Image Action event per tag', async () => {
    await clock.advance(60_000);
    const res = ecr.push({ repository: 'support-agent', tags: ['v3', 'latest'] });
    expect(res.retaggedFrom).toEqual([D2]);
    expect(res.image.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/);

    const latest = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageTag: 'latest' }] }));
    expect(latest.imageDetails![0].imageDigest).toBe(res.image.imageDigest);
    expect(latest.imageDetails![0].imagePushedAt).toEqual(new Date(T0 + 60_000));
    const old = await client.send(new DescribeImagesCommand({ repositoryName: 'support-agent', imageIds: [{ imageDigest: D2 }] }));
    expect(old.imageDetails![0].imageTags).toEqual(['v2']);

    expect(emitted).toHaveLength(2);
    expect(emitted.map((e) => e.detail['image-tag'])).toEqual(['v3', 'latest']);
    expect(emitted[0]).toMatchObject({
      version: '0', source: 'aws.ecr', 'detail-type': 'ECR Image Action', account: '123456789012', region: 'us-east-1',
      time: '2026-01-01T12:01:00Z', resources: [],
      detail: { result: 'SUCCESS', 'repository-name': 'support-agent', 'image-digest': res.image.imageDigest, 'action-type': 'PUSH' },
    });
    expect(emitted[0].id).not.toBe(emitted[1].id);
  });

  it('adds a tag to an existing digest without creating a new image, and leaves untagged images untagged', () => {
    ecr.push({ repository: 'support-agent', tags: ['stable'], digest: D1 });
    const d1 = ecr.getRepository('support-agent')!.images.find((i) => i.imageDigest === D1)!;
    expect(d1.imageTags).toEqual(['v1', 'stable']);
    expect(ecr.getRepository('support-agent')!.images).toHaveLength(3);
    ecr.push({ repository: 'support-agent', tags: ['v1'] });
    expect(d1.imageTags).toEqual(['stable']);
  });

  it('refuses pushes to a missing repository and bad seeds', () => {
    expect(() => ecr.push({ repository: 'missing', tags: ['x'] })).toThrow(/does not exist/);
    expect(emitted).toEqual([]);
    expect(() => ecrSeedSchema.parse({ repositories: [{ name: 'r', images: [{ digest: 'sha256:nothex' }] }] })).toThrow();
  });

  it('supports other accounts and regions; a request sees the repositories of its own region only', async () => {
    ecr.createRepository('shared', { account: '210987654321', region: 'eu-west-1' });
    const r = ecr.push({ repository: 'shared', account: '210987654321', region: 'eu-west-1', tags: ['v1'] });
    expect(emitted[0]).toMatchObject({ account: '210987654321', region: 'eu-west-1' });
    const eu = new ECRClient({ endpoint: core.url, region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } });
    try {
      const out = await eu.send(new DescribeImagesCommand({ registryId: '210987654321', repositoryName: 'shared', imageIds: [{ imageTag: 'v1' }] }));
      expect(out.imageDetails![0].imageDigest).toBe(r.image.imageDigest);
    } finally {
      eu.destroy();
    }
    // The same registry through us-east-1's endpoint: ECR is regional.
    await expect(client.send(new DescribeImagesCommand({ registryId: '210987654321', repositoryName: 'shared' }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'shared' }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });
});
