import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException, ListImagesCommand, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { EcrAdapter } from '../../functions/adapters/ecr.ts';
import { ResourceNotFoundError } from '../../functions/lib/errors.ts';

const ecr = mockClient(ECRClient);
const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

describe('EcrAdapter', () => {
  let adapter: EcrAdapter;
  beforeEach(() => {
    ecr.reset();
    adapter = new EcrAdapter(new ECRClient({ region: 'us-east-1' }));
  });

  it('describeImages without ids pages through the whole repository', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: digest(1) }], nextToken: 'N' })
      .resolvesOnce({ imageDetails: [{ imageDigest: digest(2) }] });

    const images = await adapter.describeImages('agents/support');

    expect(images.map((i) => i.imageDigest)).toEqual([digest(1), digest(2)]);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
  });

  it('describeImages with ids sends them without maxResults, in chunks of 100', async () => {
    ecr.on(DescribeImagesCommand).callsFake((input: { imageIds: unknown[] }) => ({
      imageDetails: input.imageIds.map((_, i) => ({ imageDigest: digest(i) })),
    }));
    const ids = Array.from({ length: 130 }, (_, i) => ({ imageTag: `v${i}` }));

    const images = await adapter.describeImages('agents/support', ids, { registryId: '123456789012' });

    expect(images).toHaveLength(130);
    const inputs = ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.imageIds?.length)).toEqual([100, 30]);
    expect(inputs.every((i) => i.maxResults === undefined && i.registryId === '123456789012')).toBe(true);
  });

  it('getImageDigest resolves a tag to its digest', async () => {
    ecr.on(DescribeImagesCommand, { repositoryName: 'agents/support', imageIds: [{ imageTag: 'v7' }] }).resolves({ imageDetails: [{ imageDigest: digest(7), imageTags: ['v7'] }] });

    await expect(adapter.getImageDigest('agents/support', 'v7')).resolves.toBe(digest(7));
  });

  it('translates a missing image or repository into ResourceNotFoundError', async () => {
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(new ImageNotFoundException({ message: 'no image', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new RepositoryNotFoundException({ message: 'no repo', $metadata: { httpStatusCode: 400 } }));

    await expect(adapter.getImageDigest('agents/support', 'missing')).rejects.toMatchObject({ name: 'ResourceNotFoundError', awsErrorName: 'ImageNotFoundException' });
    await expect(adapter.describeImages('nope')).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('listImages pages and passes the tag status filter', async () => {
    ecr
      .on(ListImagesCommand)
      .resolvesOnce({ imageIds: [{ imageDigest: digest(1), imageTag: 'a' }], nextToken: 'N' })
      .resolvesOnce({ imageIds: [{ imageDigest: digest(2), imageTag: 'b' }] });

    const ids = await adapter.listImages('agents/support', { tagStatus: 'TAGGED' });

    expect(ids.map((i) => i.imageTag)).toEqual(['a', 'b']);
    expect(ecr).toHaveReceivedCommandWith(ListImagesCommand, { repositoryName: 'agents/support', filter: { tagStatus: 'TAGGED' } });
  });
});
