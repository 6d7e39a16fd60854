import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import { actionsOf, namesIn, resourcesOf, type Statement, synth } from './synth';

// Prepare: one synthesis shared by every test of this file (bundling skipped, see synth.ts).
const { stack, template, cleanup } = synth();
afterAll(cleanup);
const { store, pipeline } = stack;
const { id, arn } = namesIn(stack);

describe('backup store', () => {
  it('encrypts the bucket with the stack key (SSE-KMS, bucket key), versioned, public access blocked, retained', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    // The backup bucket and its server access log bucket (test/infra/deployed.test.ts).
    expect(Object.keys(buckets).sort()).toEqual([id(store.accessLogs), id(store.bucket)].sort());
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [id(store.key), 'Arn'] },
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        ObjectLockEnabled: Match.absent(),
      },
    });
  });

  it('uses a customer-managed key with rotation, retained with the stack', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('denies every request that is not TLS', () => {
    const policy = template.findResources('AWS::S3::BucketPolicy');
    const [document] = Object.values(policy).map((p) => p.Properties);
    expect(document.Bucket).toEqual({ Ref: id(store.bucket) });
    const tlsOnly = (document.PolicyDocument.Statement as Statement[]).find(
      (s) =>
        s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
    );
    expect(tlsOnly).toBeDefined();
    expect(tlsOnly?.Principal).toEqual({ AWS: '*' });
    expect(actionsOf(tlsOnly as Statement)).toEqual(['s3:*']);
    expect(resourcesOf(tlsOnly as Statement).sort()).toEqual(
      [arn(store.bucket), `${arn(store.bucket)}/*`].sort(),
    );
  });

  it('keys the catalog on pk/sk strings, on demand, with PITR and deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      },
    });
  });
});

describe('outputs', () => {
  it('exports the names the CLI reads', () => {
    template.hasOutput('BucketName', { Value: { Ref: id(store.bucket) } });
    template.hasOutput('CatalogTableName', { Value: { Ref: id(store.catalog) } });
    template.hasOutput('SnapshotStateMachineArn', { Value: { Ref: id(pipeline.stateMachine) } });
    template.hasOutput('StartBackupFunctionName', { Value: { Ref: id(pipeline.startBackup) } });
  });
});

describe('a stack with Object Lock', () => {
  // Prepare / Act
  const { template, cleanup } = synth(
    parseConfig(
      {
        stackName: 'RewindLocked',
        bucket: { objectLock: { mode: 'COMPLIANCE', days: 30 }, noncurrentVersionDays: 45 },
      },
      'test',
    ),
  );
  afterAll(cleanup);

  it('enables Object Lock with the default retention and keeps noncurrent versions as configured', () => {
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 45 } })]),
      },
    });
  });
});
