import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, type MetricUnit } from '@aws-lambda-powertools/metrics';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type clusterMetric, METRIC_NAMESPACE, METRIC_SERVICE } from '../core/metric-names';
import type { FunctionClients } from '../spec';
import { withProtoKeyRepair } from './proto-key-plugin';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Clients for code running in Lambda, created on first use (not at import, so tests can import
 * handlers without credentials). The SDK's standard retry mode retries throttling and 5xx with
 * exponential backoff and jitter.
 */
let clients: FunctionClients | undefined;

export function awsClients(): FunctionClients {
  clients ??= {
    // withProtoKeyRepair: attributes named __proto__ survive the SDK's deserializer (proto-key-plugin.ts).
    dynamodb: withProtoKeyRepair(new DynamoDBClient({ maxAttempts: 8, retryMode: 'adaptive' })),
    s3: new S3Client({ maxAttempts: 6 }),
    sfn: new SFNClient({ maxAttempts: 6 }),
    kinesis: new KinesisClient({ maxAttempts: 6 }),
  };
  return clients;
}

export const logger = new Logger({ serviceName: METRIC_SERVICE });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

/**
 * Publish one value with a `cluster` dimension at once (dimensions `service`, `cluster`: the
 * set the per-cluster alarms watch), on `on` (a spec's `respond` passes its telemetry's).
 */
export function publishClusterMetric(
  cluster: string,
  name: (typeof clusterMetric)[keyof typeof clusterMetric],
  unit: Unit,
  value: number,
  on: Metrics = metrics,
): void {
  const single = on.singleMetric();
  single.addDimension('cluster', cluster);
  single.addMetric(name, unit, value);
}
