import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { FORMAT_PREFIX } from '../../functions/core/keys';
import { deleteBackupSpec } from '../../functions/delete-backup/spec';
import { sweepRetentionSpec } from '../../functions/sweep-retention/spec';
import { acknowledgeBackupAccess } from '../nag';
import type { BackupStore } from './backup-store';
import { specFunction } from './node-function';

export interface RetentionSweepProps {
  store: BackupStore;
  /** The stack's clock-skew margin (ms): the snapshot pipeline's (a snapshot's log window starts at startTs minus it). */
  skewMarginMs?: number;
  /** FAILED backups younger than this keep their objects. Default 48. */
  failedGraceHours?: number;
}

/**
 * Retention (docs/design.md §3.7, issue 5): sweep-retention, invoked daily per protected cluster by
 * the cluster's sweep schedule (ProtectedCluster) with `{"cluster": …, "confirm": true}`, and
 * delete-backup, which console users invoke to delete a backup (`{"cluster", "backupId"}`).
 *
 * Least privilege from the calls the code makes (functions/adapters):
 * - catalog: GetItem (cluster, backup, checkpoint), Query (backups, log-object index),
 *   UpdateItem (mark a backup DELETED); the sweep also removes log-object index entries
 *   (DeleteItem, BatchWriteItem). No PutItem, no Scan.
 * - bucket: ListBucket only for prefixes under `v1/`, DeleteObject on `v1/*` (DeleteObjects
 *   checks it per key). Neither reads nor writes an object, so no GetObject, PutObject or KMS.
 */
export class RetentionSweep extends Construct {
  readonly sweepRetention: NodejsFunction;
  readonly deleteBackup: NodejsFunction;

  constructor(scope: Construct, id: string, props: RetentionSweepProps) {
    super(scope, id);
    const { bucket, catalog } = props.store;
    const storage = { CATALOG_TABLE_NAME: catalog.tableName, BUCKET_NAME: bucket.bucketName };

    this.sweepRetention = specFunction(this, 'SweepRetention', sweepRetentionSpec, {
      ...storage,
      SKEW_MARGIN_MS: props.skewMarginMs,
      FAILED_GRACE_HOURS: props.failedGraceHours,
    });
    this.deleteBackup = specFunction(this, 'DeleteBackup', deleteBackupSpec, storage);

    // The schedule invokes the sweep asynchronously. A run is idempotent and convergent, so
    // Lambda may retry a failed one; a retry more than 6 hours late waits for the next day.
    this.sweepRetention.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });

    const grantCatalog = (fn: NodejsFunction, actions: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'Catalog', actions, resources: [catalog.tableArn] }));
    grantCatalog(this.sweepRetention, [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]);
    grantCatalog(this.deleteBackup, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const fn of [this.sweepRetention, this.deleteBackup]) {
      acknowledgeBackupAccess(fn, bucket.bucketArn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListBackupObjects',
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${FORMAT_PREFIX}/*`] } },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DeleteBackupObjects',
          actions: ['s3:DeleteObject'],
          resources: [bucket.arnForObjects(`${FORMAT_PREFIX}/*`)],
        }),
      );
    }
  }
}
