import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ObjectLockProps {
  /** GOVERNANCE can be bypassed by a principal with s3:BypassGovernanceRetention; COMPLIANCE by nobody. */
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Default retention of every new object version, in days. */
  days: number;
}

export interface BackupStoreProps {
  /**
   * Write-once retention (S3 Object Lock) for every object version. Off by default. Retention
   * deletes then only add delete markers until the lock expires; set `days` no longer than the
   * shortest retention you need to be able to honour.
   */
  objectLock?: ObjectLockProps;
  /** Days an overwritten or deleted object version is kept before it expires. Default 30. */
  noncurrentVersionDays?: number;
}

/**
 * Where backups live: the S3 bucket for snapshot and log objects, the customer-managed KMS key
 * that encrypts them, and the DynamoDB catalog (DESIGN.md §4, §5). Everything is retained when
 * the stack is deleted: a backup store that disappears with its stack is not a backup.
 */
export class BackupStore extends Construct {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly catalog: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: BackupStoreProps = {}) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: `Rewind backups (${Stack.of(this).stackName}): S3 objects`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const lock = props.objectLock;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of a KMS call per object: scan workers write many chunks.
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      objectLockEnabled: lock !== undefined ? true : undefined,
      objectLockDefaultRetention:
        lock === undefined
          ? undefined
          : lock.mode === 'COMPLIANCE'
            ? s3.ObjectLockRetention.compliance(Duration.days(lock.days))
            : s3.ObjectLockRetention.governance(Duration.days(lock.days)),
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
      ],
    });

    this.catalog = new dynamodb.TableV2(this, 'Catalog', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
