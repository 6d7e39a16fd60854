import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, type RewindConfig } from '../../cdk/config';
import { TABLE_WRITE_ACTIONS } from '../../cdk/constructs/restore-pipeline';
import { InvalidInputError } from '../../functions/core/errors';
import {
  actionsOf,
  flatten,
  namesIn,
  propsOf,
  resourcesAllowing,
  resourcesOfType,
  roleStatements,
  type Statement,
  sortedResources,
  stackOutputRef,
  synth,
  synthApp,
  testConfig,
} from './synth';

const PRIMARY = 'eu-west-1';
const SECOND = 'eu-central-1';
const dualConfig = (extra: Record<string, unknown> = {}): RewindConfig =>
  parseConfig(
    {
      stackName: 'RewindDual',
      region: PRIMARY,
      replicaRegion: SECOND,
      clusters: [
        { name: 'shop', tables: ['orders', 'customers'] },
        { name: 'ledger', tables: ['arn:aws:dynamodb:eu-west-1:111122223333:table/entries'] },
      ],
      ...extra,
    },
    'test',
  );

// Prepare: one synthesis of both stacks (bundling skipped), shared by the tests below.
const dual = synthApp(dualConfig());
afterAll(dual.cleanup);
const { main: mainStack, replica: replicaStack } = dual.stacks;
if (!replicaStack) throw new Error('expected a replica stack');
const main = dual.main;
const replica = dual.replica();
const inMain = namesIn(mainStack);
const inReplica = namesIn(replicaStack);
const store = mainStack.store;
const replication = store.replication;
if (!replication) throw new Error('expected a replication');

/** A policy condition with every CloudFormation value flattened to text (see `flatten`). */
const flattenAll = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(flattenAll);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.some(([key]) => key === 'Ref' || key.startsWith('Fn::'))) return flatten(value);
  return Object.fromEntries(entries.map(([key, inner]) => [key, flattenAll(inner)]));
};
const fromReplica = (value: unknown) => stackOutputRef(replica, replicaStack.stackName, SECOND, value);
const replicaBucketArn = fromReplica({ 'Fn::GetAtt': [inReplica.id(replicaStack.bucket), 'Arn'] });
const replicaKeyArn = fromReplica({ 'Fn::GetAtt': [inReplica.id(replicaStack.key), 'Arn'] });

describe('config', () => {
  const errorOf = (raw: unknown) => {
    try {
      parseConfig(raw, 'test');
    } catch (error) {
      return error as InvalidInputError;
    }
    throw new Error('expected parseConfig to refuse');
  };

  it.each([
    [
      { region: PRIMARY, replicaRegion: PRIMARY },
      'test: replicaRegion',
      /other than the stack region \(eu-west-1\)/,
    ],
    [{ region: PRIMARY, replicaRegion: 'Frankfurt' }, 'test: replicaRegion', /AWS region name/],
    [{ region: PRIMARY, replicaRegion: 'eu-central' }, 'test: replicaRegion', /AWS region name/],
    [{ replicaRegion: SECOND }, 'test: region', /replicaRegion needs one/],
    [{ region: 'EU', replicaRegion: SECOND }, 'test: region', /AWS region name/],
    [
      { stackName: `R${'x'.repeat(125)}`, region: PRIMARY, replicaRegion: SECOND },
      'test: stackName',
      /at most 120 characters/,
    ],
  ])('refuses %j naming the field', (raw, field, message) => {
    // Act
    const error = errorOf(raw);
    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('keeps both regions and defaults everything else', () => {
    expect(parseConfig({ region: PRIMARY, replicaRegion: SECOND }, 'test')).toMatchObject({
      stackName: 'Rewind',
      region: PRIMARY,
      replicaRegion: SECOND,
      clusters: [],
    });
  });
});

describe('without replicaRegion (the default)', () => {
  // Prepare / Act: the app's wiring, with and without an explicit region, and the stack the other
  // infra tests synthesize directly.
  const single = synthApp(parseConfig({ stackName: 'RewindSingle', region: PRIMARY }, 'test'));
  const viaApp = synthApp(testConfig);
  const direct = synth(testConfig);
  afterAll(() => {
    for (const synthesized of [single, viaApp, direct]) synthesized.cleanup();
  });
  // The cluster registration carries its synthesis time.
  const normalized = (template: Template) =>
    JSON.stringify(template.toJSON()).replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>');

  it('synthesizes the same single stack as before dual-region existed', () => {
    // Assess
    expect(viaApp.stacks.replica).toBeUndefined();
    expect(normalized(viaApp.main)).toBe(normalized(direct.template));
    expect(normalized(viaApp.main)).not.toContain('ReplicationConfiguration');
  });

  it('has, with a region, one stack, no replication and a single-region catalog with its fixed name', () => {
    // Assess
    expect(single.assembly.stacks.map((s) => s.stackName)).toEqual(['RewindSingle']);
    const buckets = resourcesOfType(single.main, 'AWS::S3::Bucket');
    // The backup bucket and its server access log bucket.
    expect(buckets.map(([, b]) => b.Properties.ReplicationConfiguration)).toEqual([undefined, undefined]);
    expect(resourcesOfType(single.main, 'AWS::IAM::Role').map(([name]) => name)).not.toContainEqual(
      expect.stringContaining('Replication'),
    );
    const [[, catalog] = []] = resourcesOfType(single.main, 'AWS::DynamoDB::GlobalTable');
    // The same name dual-region uses: enabling it later adds a replica, never a new table.
    expect(catalog?.Properties.TableName).toBe('RewindSingle-catalog');
    expect(catalog?.Properties.Replicas).toEqual([expect.objectContaining({ Region: PRIMARY })]);
  });
});

describe('stacks and deploy order', () => {
  it('puts the replica stack in the second region and deploys it before the main stack', () => {
    const artifacts = Object.fromEntries(dual.assembly.stacks.map((s) => [s.stackName, s]));
    expect(Object.keys(artifacts).sort()).toEqual(['RewindDual', 'RewindDual-replica']);
    expect(artifacts.RewindDual?.environment.region).toBe(PRIMARY);
    expect(artifacts['RewindDual-replica']?.environment.region).toBe(SECOND);
    expect(artifacts.RewindDual?.dependencies.map((d) => d.id)).toContain('RewindDual-replica');
  });

  it('reads the replica bucket and key through stack outputs, without custom resources', () => {
    for (const template of [main, replica]) {
      expect(JSON.stringify(template.toJSON().Resources)).not.toMatch(/CrossRegionExport|ExportsReader/);
    }
    expect(JSON.stringify(main.toJSON())).toContain('"Fn::GetStackOutput"');
  });
});

describe('replication of the backup bucket', () => {
  const bucket = propsOf(main, inMain.id(store.bucket));

  it('replicates v1/ with RTC 15 min, metrics, SSE-KMS selection, the replica key and delete markers', () => {
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.ReplicationConfiguration).toEqual({
      Role: { 'Fn::GetAtt': [inMain.id(replication.role), 'Arn'] },
      Rules: [
        {
          Id: 'rewind-backups-to-replica',
          Priority: 1,
          Status: 'Enabled',
          Filter: { Prefix: 'v1/' },
          DeleteMarkerReplication: { Status: 'Enabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: replicaBucketArn,
            EncryptionConfiguration: { ReplicaKmsKeyID: replicaKeyArn },
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          },
        },
      ],
    });
  });

  it('lets only S3 assume the replication role', () => {
    const role = propsOf(main, inMain.id(replication.role));
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } }],
    });
  });

  it('grants the replication role exactly the documented SSE-KMS replication permissions', () => {
    const statements = roleStatements(main, inMain.id(replication.role));
    const source = inMain.arn(store.bucket);
    const replicaBucket = flatten(replicaBucketArn);
    const bySid = Object.fromEntries(
      statements.map((s) => [
        (s as Statement & { Sid: string }).Sid,
        {
          effect: s.Effect,
          actions: actionsOf(s),
          resources: flatten(s.Resource),
          condition: flattenAll(s.Condition),
        },
      ]),
    );
    expect(bySid).toEqual({
      ReadReplicationConfiguration: {
        effect: 'Allow',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: source,
        condition: undefined,
      },
      ReadSourceVersions: {
        effect: 'Allow',
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
        ],
        resources: `${source}/v1/*`,
        condition: undefined,
      },
      ReplicateToReplicaBucket: {
        effect: 'Allow',
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: `${replicaBucket}/v1/*`,
        condition: undefined,
      },
      DecryptSourceObjects: {
        effect: 'Allow',
        actions: ['kms:Decrypt'],
        resources: inMain.arn(store.key),
        condition: {
          StringEquals: { 'kms:ViaService': `s3.${PRIMARY}.\${AWS::URLSuffix}` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [source, `${source}/v1/*`] },
        },
      },
      EncryptReplicas: {
        effect: 'Allow',
        actions: ['kms:Encrypt'],
        resources: flatten(replicaKeyArn),
        condition: {
          StringEquals: { 'kms:ViaService': `s3.${SECOND}.\${AWS::URLSuffix}` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [`${replicaBucket}/v1/*`] },
        },
      },
    });
    expect(statements.flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('replica bucket', () => {
  const bucketId = inReplica.id(replicaStack.bucket);
  const bucket = propsOf(replica, bucketId);

  it('is versioned, SSE-KMS with its own rotated key (no Bucket Key), public access blocked, retained', () => {
    replica.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: false,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [inReplica.id(replicaStack.key), 'Arn'] },
          },
        },
      ],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.ObjectLockEnabled).toBeUndefined();
    replica.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('expires noncurrent versions and delete markers exactly as the primary does', () => {
    const primary = propsOf(main, inMain.id(store.bucket)).LifecycleConfiguration;
    expect(bucket.LifecycleConfiguration).toEqual(primary);
    expect(JSON.stringify(primary)).toContain('"NoncurrentDays":30');
  });

  it('denies every request that is not TLS', () => {
    const [[, policy] = []] = resourcesOfType(replica, 'AWS::S3::BucketPolicy');
    expect(policy?.Properties.Bucket).toEqual({ Ref: bucketId });
    const statements =
      (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
    const tlsOnly = statements.filter(
      (s) =>
        s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
    );
    expect(tlsOnly).toHaveLength(1);
    expect(actionsOf(tlsOnly[0] as Statement)).toEqual(['s3:*']);
    expect(sortedResources(tlsOnly[0]?.Resource)).toEqual(
      [inReplica.arn(replicaStack.bucket), `${inReplica.arn(replicaStack.bucket)}/*`].sort(),
    );
  });
});

describe('catalog global table', () => {
  it('has a fixed name and a replica in the second region, with PITR and deletion protection on both', () => {
    const catalog = propsOf(main, inMain.id(store.catalog));
    expect(catalog.TableName).toBe('RewindDual-catalog');
    expect(catalog.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const replicas = (catalog.Replicas as Record<string, unknown>[]).map((r) => ({
      region: r.Region,
      pitr: r.PointInTimeRecoverySpecification,
      protected: r.DeletionProtectionEnabled,
    }));
    expect(replicas.sort((a, b) => String(a.region).localeCompare(String(b.region)))).toEqual([
      { region: SECOND, pitr: { PointInTimeRecoveryEnabled: true }, protected: true },
      { region: PRIMARY, pitr: { PointInTimeRecoveryEnabled: true }, protected: true },
    ]);
  });
});

describe('restore in the second region', () => {
  const restore = replicaStack.restore;
  const catalogArn = `arn:\${AWS::Partition}:dynamodb:${SECOND}:\${AWS::AccountId}:table/RewindDual-catalog`;
  const restoreFns = [
    restore.createTables,
    restore.load,
    restore.planReplay,
    restore.replay,
    restore.verify,
    restore.fail,
    restore.startRestore,
    restore.resumeRestore,
  ];

  it('points every restore function at the catalog replica and (for readers) the replica bucket', () => {
    for (const fn of restoreFns) {
      const variables = (
        propsOf(replica, inReplica.id(fn)).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.CATALOG_TABLE_NAME).toBe('RewindDual-catalog');
      if (variables.BUCKET_NAME !== undefined)
        expect(variables.BUCKET_NAME).toEqual({ Ref: inReplica.id(replicaStack.bucket) });
    }
    const start = propsOf(replica, inReplica.id(restore.startRestore)).Environment as {
      Variables: Record<string, unknown>;
    };
    expect(start.Variables.RESTORE_STATE_MACHINE_ARN).toEqual({ Ref: inReplica.id(restore.stateMachine) });
  });

  it('lets restore read the replica bucket and decrypt with the replica key, and use the catalog replica', () => {
    const statements = roleStatements(replica, inReplica.roleOf(restore.load));
    expect(resourcesAllowing(statements, 's3:GetObject*')).toContain(
      `${inReplica.arn(replicaStack.bucket)}/*`,
    );
    expect(resourcesAllowing(statements, 'kms:Decrypt')).toEqual([inReplica.arn(replicaStack.key)]);
    expect(resourcesAllowing(statements, 'dynamodb:PutItem')).toContain(catalogArn);
  });

  it('denies restore functions writes to the protected tables of the same names in the second region', () => {
    const protectedArns = ['orders', 'customers', 'entries'].flatMap((name) => {
      const arn = `arn:\${AWS::Partition}:dynamodb:${SECOND}:\${AWS::AccountId}:table/${name}`;
      return [arn, `${arn}/*`];
    });
    for (const fn of restoreFns) {
      const denies = roleStatements(replica, inReplica.roleOf(fn)).filter((s) => s.Effect === 'Deny');
      expect(denies).toHaveLength(1);
      expect(actionsOf(denies[0] as Statement)).toEqual(TABLE_WRITE_ACTIONS);
      expect(sortedResources(denies[0]?.Resource)).toEqual([...protectedArns].sort());
    }
  });

  it('exports the outputs the CLI reads with --stack RewindDual-replica --region eu-central-1', () => {
    const bucketRef = { Ref: inReplica.id(replicaStack.bucket) };
    replica.hasOutput('ReplicaBucketName', { Value: bucketRef });
    replica.hasOutput('BucketName', { Value: bucketRef });
    replica.hasOutput('CatalogTableName', { Value: 'RewindDual-catalog' });
    replica.hasOutput('RestoreStateMachineArn', { Value: { Ref: inReplica.id(restore.stateMachine) } });
    replica.hasOutput('StartRestoreFunctionName', { Value: { Ref: inReplica.id(restore.startRestore) } });
  });
});

describe('with Object Lock', () => {
  // Prepare / Act
  const locked = synthApp(
    dualConfig({ stackName: 'RewindLockedDual', bucket: { objectLock: { mode: 'COMPLIANCE', days: 30 } } }),
  );
  afterAll(locked.cleanup);

  it('mirrors the lock on the replica bucket and lets replication read retention and legal holds', () => {
    // Assess
    locked.replica().hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    });
    const role = locked.stacks.main.store.replication?.role;
    if (!role) throw new Error('expected a replication role');
    const statements = roleStatements(locked.main, namesIn(locked.stacks.main).id(role));
    const read = statements.find((s) => (s as Statement & { Sid?: string }).Sid === 'ReadSourceVersions');
    expect(actionsOf(read as Statement)).toEqual([
      's3:GetObjectVersionForReplication',
      's3:GetObjectVersionAcl',
      's3:GetObjectVersionTagging',
      's3:GetObjectRetention',
      's3:GetObjectLegalHold',
    ]);
  });
});
