/**
 * The CloudWatch metrics the functions publish (Powertools EMF, namespace `Rewind`, dimension
 * `service` = `rewind`, plus `cluster` where named) — one list shared with the alarms in
 * cdk/constructs/monitoring.ts, so a renamed metric cannot silently leave an alarm watching
 * nothing.
 */
export const METRIC_NAMESPACE = 'Rewind';
export const METRIC_SERVICE = 'rewind';

export const clusterMetric = {
  /** advance-checkpoint, every run: seconds between now and the cluster's restorable checkpoint. */
  rpoSeconds: 'RpoSeconds',
  /** advance-checkpoint, every run: seconds since the newest COMPLETED backup (core/backup-age.ts). */
  backupAgeSeconds: 'BackupAgeSeconds',
  /** finalize-snapshot: 1 per COMPLETED backup. */
  backupCompleted: 'BackupCompleted',
  /** fail-snapshot: 1 per FAILED backup. */
  backupFailed: 'BackupFailed',
} as const;

export const serviceMetric = {
  /** record-gap: 1 per gap recorded (changes Lambda discarded: PITR cannot cross them). */
  gapsRecorded: 'GapsRecorded',
  recordsShipped: 'RecordsShipped',
  decodeFailures: 'DecodeFailures',
  sweptBackups: 'SweptBackups',
  sweptLogObjects: 'SweptLogObjects',
} as const;
