/**
 * Live resources as GetAgentRuntime / GetGateway return them (every mapped field populated), and
 * a different valid value for every carried field. Secret-looking values carry the SECRET marker
 * so tests can assert that it never leaks.
 */
import type { GetAgentRuntimeCommandOutput, GetGatewayCommandOutput } from '@aws-sdk/client-bedrock-agentcore-control';

export const SECRET = 'S3CR3T';

export const RUNTIME_ID = 'my_agent-a1b2c3d4e5';
const ACCOUNT = '123456789012';
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/my-agent`;

export function liveRuntime(): GetAgentRuntimeCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
    agentRuntimeArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:runtime/${RUNTIME_ID}`,
    agentRuntimeName: 'my_agent',
    agentRuntimeId: RUNTIME_ID,
    agentRuntimeVersion: '7',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    lastUpdatedAt: new Date('2026-11-01T00:00:00Z'),
    status: 'READY',
    failureReason: undefined,
    workloadIdentityDetails: { workloadIdentityArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:workload-identity/x` },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/AgentRole`,
    agentRuntimeArtifact: { containerConfiguration: { containerUri: `${IMAGE}:v1@sha256:${'a'.repeat(64)}` } },
    networkConfiguration: {
      networkMode: 'VPC',
      networkModeConfig: { securityGroups: ['sg-0123456789abcdef0'], subnets: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] },
    },
    description: `agent for ${SECRET}-description`,
    authorizerConfiguration: {
      customJWTAuthorizer: {
        discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration',
        allowedAudience: ['aud-1'],
        allowedClients: ['client-1', 'client-2'],
        allowedScopes: ['agent:invoke'],
        customClaims: [
          {
            inboundTokenClaimName: 'department',
            inboundTokenClaimValueType: 'STRING',
            authorizingClaimMatchValue: { claimMatchValue: { matchValueString: 'engineering' }, claimMatchOperator: 'EQUALS' },
          },
        ],
      },
    },
    requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant', 'Authorization'] },
    protocolConfiguration: { serverProtocol: 'MCP' },
    lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
    metadataConfiguration: { requireMMDSV2: true },
    environmentVariables: { LOG_LEVEL: `${SECRET}-info`, API_KEY: `${SECRET}-key`, EMPTY: '' },
    filesystemConfigurations: [
      { sessionStorage: { mountPath: '/mnt/session' } },
      { efsAccessPoint: { accessPointArn: `arn:aws:elasticfilesystem:us-east-1:${ACCOUNT}:access-point/fsap-0123456789abcdef0`, mountPath: '/mnt/efs/' } },
    ],
    capacityProviderConfiguration: { capacityProviderArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:capacity-provider/cp_main-a1b2c3d4e5` },
    platformVersion: '2026.10',
  };
}

/** A different valid value for every UpdateAgentRuntime body field. */
export const RUNTIME_NEW_VALUES: Record<string, unknown> = {
  agentRuntimeArtifact: {
    codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'builds/42.zip' } }, runtime: 'PYTHON_3_13', entryPoint: ['main.py'] },
  },
  roleArn: `arn:aws:iam::${ACCOUNT}:role/OtherRole`,
  networkConfiguration: {
    networkMode: 'VPC',
    networkModeConfig: { securityGroups: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'], subnets: ['subnet-0cccccccccccccccc'] },
  },
  description: `new ${SECRET}-text`,
  authorizerConfiguration: {
    customJWTAuthorizer: {
      discoveryUrl: 'https://other.example.com/.well-known/openid-configuration',
      allowedClients: ['client-3'],
      customClaims: [
        {
          inboundTokenClaimName: 'groups',
          inboundTokenClaimValueType: 'STRING_ARRAY',
          authorizingClaimMatchValue: { claimMatchValue: { matchValueStringList: ['admins', 'ops'] }, claimMatchOperator: 'CONTAINS_ANY' },
        },
      ],
    },
  },
  requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Tenant'] },
  protocolConfiguration: { serverProtocol: 'A2A' },
  lifecycleConfiguration: { idleRuntimeSessionTimeout: 60 },
  metadataConfiguration: { requireMMDSV2: false },
  environmentVariables: { ONLY: `${SECRET}-only` },
  filesystemConfigurations: [
    { s3FilesAccessPoint: { accessPointArn: `arn:aws:s3files:us-east-1:${ACCOUNT}:file-system/fs-0123456789abcdef01/access-point/fsap-0123456789abcdef01`, mountPath: '/mnt/s3' } },
    { capacityProviderVolume: { volumeName: 'scratch', mountPath: '/mnt/scratch' } },
  ],
  capacityProviderConfiguration: { capacityProviderArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:capacity-provider/cp_other-z9y8x7w6v5` },
  platformVersion: '2026.11',
};

export const GATEWAY_ID = 'my-gateway-abcdefghij';

export function liveGateway(): GetGatewayCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: 'req-2' },
    gatewayArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:gateway/${GATEWAY_ID}`,
    gatewayId: GATEWAY_ID,
    gatewayUrl: `https://${GATEWAY_ID}.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp`,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-11-01T00:00:00Z'),
    status: 'READY',
    statusReasons: [],
    name: 'my-gateway',
    description: `gateway ${SECRET}-description`,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/GatewayRole`,
    protocolType: 'MCP',
    protocolConfiguration: {
      mcp: {
        supportedVersions: ['2025-06-18'],
        instructions: `${SECRET}-instructions`,
        searchType: 'SEMANTIC',
        sessionConfiguration: { sessionTimeoutInSeconds: 3600 },
        streamingConfiguration: { enableResponseStreaming: true },
        disableMcpListToolsPagination: false,
      },
    } as GetGatewayCommandOutput['protocolConfiguration'],
    authorizerType: 'CUSTOM_JWT',
    authorizerConfiguration: {
      customJWTAuthorizer: {
        discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration',
        allowedAudience: ['gw'],
        customClaims: [
          {
            inboundTokenClaimName: 'tenant',
            inboundTokenClaimValueType: 'STRING',
            authorizingClaimMatchValue: { claimMatchValue: { matchValueString: 'acme' }, claimMatchOperator: 'EQUALS' },
          },
        ],
      },
    },
    kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/12345678-1234-1234-1234-123456789012`,
    customTransformConfiguration: { lambda: { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:transform` } },
    interceptorConfigurations: [
      {
        interceptor: { lambda: { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:intercept:live` } },
        interceptionPoints: ['REQUEST', 'RESPONSE'],
        inputConfiguration: { passRequestHeaders: true, payloadFilter: { exclude: [{ field: 'RESPONSE_BODY' }] } },
      },
    ],
    policyEngineConfiguration: { arn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:policy-engine/main_engine-a1b2c3d4e5`, mode: 'LOG_ONLY' },
    workloadIdentityDetails: { workloadIdentityArn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:workload-identity/gw` },
    exceptionLevel: 'DEBUG',
    webAclArn: `arn:aws:wafv2:us-east-1:${ACCOUNT}:regional/webacl/gw-acl/0123`,
    wafConfiguration: { failureMode: 'FAIL_CLOSE' },
  } as GetGatewayCommandOutput;
}

/** A different valid value for every settable UpdateGateway body field (`name` cannot change). */
export const GATEWAY_NEW_VALUES: Record<string, unknown> = {
  description: `new ${SECRET}-gateway`,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/OtherGatewayRole`,
  protocolType: 'MCP',
  protocolConfiguration: { mcp: { supportedVersions: ['2025-03-26', '2025-06-18'], instructions: `${SECRET}-new` } },
  authorizerType: 'AWS_IAM',
  authorizerConfiguration: {
    customJWTAuthorizer: {
      discoveryUrl: 'https://idp2.example.com/.well-known/openid-configuration',
      allowedScopes: ['tools:read'],
      customClaims: [
        {
          inboundTokenClaimName: 'roles',
          inboundTokenClaimValueType: 'STRING_ARRAY',
          authorizingClaimMatchValue: { claimMatchValue: { matchValueStringList: ['reader'] }, claimMatchOperator: 'CONTAINS' },
        },
      ],
    },
  },
  kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/abcdefab-cdef-abcd-efab-cdefabcdefab`,
  customTransformConfiguration: { lambda: { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:transform2` } },
  interceptorConfigurations: [
    { interceptor: { lambda: { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:audit` } }, interceptionPoints: ['RESPONSE'] },
    { interceptor: { lambda: { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:guard` } }, interceptionPoints: ['REQUEST'] },
  ],
  policyEngineConfiguration: { arn: `arn:aws:bedrock-agentcore:us-east-1:${ACCOUNT}:policy-engine/next_engine-z9y8x7w6v5`, mode: 'ENFORCE' },
  exceptionLevel: 'DEBUG',
  wafConfiguration: { failureMode: 'FAIL_OPEN' },
};
