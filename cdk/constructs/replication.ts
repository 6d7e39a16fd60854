import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, EVIDENCE, nagText, wildcardResource } from '../nag';

/** Every backup object lives under this prefix (docs/design.md §4); only it is replicated. */
export const REPLICATED_PREFIX = 'v1/';

/** Where the backup bucket replicates to: the replica stack's bucket and key (cdk/replica-stack.ts). */
export interface ReplicaTarget {
  /** The replica region (differs from the stack's). */
  region: string;
  /** Versioned, SSE-KMS with `key`, in `region`. */
  bucket: s3.IBucket;
  /** The customer-managed key of the replica bucket, in `region`. */
  key: kms.IKey;
}

export interface BucketReplicationProps {
  target: ReplicaTarget;
  /** The source bucket uses Object Lock: replication then also reads each version's retention and legal hold. */
  objectLock: boolean;
}

/**
 * S3 Cross-Region Replication of the backup bucket (docs/design.md §1 "dual-region backup"): the role
 * S3 assumes, with only the permissions AWS documents for replicating SSE-KMS objects
 * (docs/aws-fidelity.md items 21–26), and the one replication rule:
 *
 * - V2 rule (a `Filter`) on `v1/`, priority 1;
 * - SSE-KMS objects selected (`SseKmsEncryptedObjects`), replicas encrypted with the replica key;
 * - Replication Time Control (15 minutes) with its required replication metrics (threshold 15 min);
 * - **delete markers replicated.** The retention sweep and delete-backup delete without a version
 *   id, which adds a delete marker; replicating it makes the replica hide the same objects, and the
 *   replica bucket's own lifecycle (the primary's rules, see `backupLifecycleRules`) then expires
 *   the noncurrent versions after the same number of days. Without it the replica would keep every
 *   object ever written. The replica runs its own lifecycle rather than relying on the primary's
 *   expirations reaching it (lifecycle actions are the bucket's own). Cost: a delete in the primary
 *   also hides the object in the replica — the versions stay restorable for
 *   `noncurrentVersionDays` in both, and with Object Lock they cannot be deleted before the lock
 *   expires. Delete markers are outside the RTC 15-minute SLA.
 *
 * The bucket is created by `BackupStore` with `role` and `rule()`; `grantSource` adds the
 * source-side statements once the bucket and its key exist.
 */
export class BucketReplication extends Construct {
  readonly role: iam.Role;
  private readonly target: ReplicaTarget;
  private readonly objectLock: boolean;

  constructor(scope: Construct, id: string, props: BucketReplicationProps) {
    super(scope, id);
    this.target = props.target;
    this.objectLock = props.objectLock;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: `Rewind: S3 replication of backup objects to ${props.target.region}`,
    });
    const { bucket, key, region } = props.target;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReplicateToReplicaBucket',
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: [bucket.arnForObjects(`${REPLICATED_PREFIX}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptReplicas',
        actions: ['kms:Encrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${region}.${Aws.URL_SUFFIX}` },
          // The replica bucket has no Bucket Key: each replica's context is its object ARN.
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket.arnForObjects(`${REPLICATED_PREFIX}*`)] },
        },
      }),
    );
  }

  /** The replication rule of the source bucket (aws-cdk-lib's L2 renders the V2 XML schema). */
  rule(): s3.ReplicationRule {
    return {
      id: 'rewind-backups-to-replica',
      priority: 1,
      destination: this.target.bucket,
      filter: { prefix: REPLICATED_PREFIX },
      deleteMarkerReplication: true,
      sseKmsEncryptedObjects: true,
      kmsKey: this.target.key,
      replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
      metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
    };
  }

  /** Read the source bucket's replication configuration and object versions; decrypt with its key. */
  grantSource(source: s3.IBucket, sourceKey: kms.IKey): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadReplicationConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [source.bucketArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSourceVersions',
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          // Object Lock: the replica keeps each version's retention and legal hold.
          ...(this.objectLock ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : []),
        ],
        resources: [source.arnForObjects(`${REPLICATED_PREFIX}*`)],
      }),
    );
    // Replicated object keys are backup ids and log shards written at run time.
    // (The destination side, `<replica bucket>/v1/*`, is a cross-region reference that becomes
    // Fn::GetStackOutput only after construction; test/infra/nag.test.ts names that finding.)
    for (const bucketArn of [source.bucketArn]) {
      acknowledge(
        this.role,
        wildcardResource(nagText(this.role, `${bucketArn}/${REPLICATED_PREFIX}*`)),
        `${EVIDENCE.backupObjects} S3 replication reads source versions and writes replicas object by object, only under the replicated prefix.`,
      );
    }
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptSourceObjects',
        actions: ['kms:Decrypt'],
        resources: [sourceKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.${Aws.URL_SUFFIX}` },
          // The source bucket uses a Bucket Key (context = bucket ARN); object ARNs cover any
          // object written without one.
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [
              source.bucketArn,
              source.arnForObjects(`${REPLICATED_PREFIX}*`),
            ],
          },
        },
      }),
    );
  }
}
