import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, type MetricUnit } from '@aws-lambda-powertools/metrics';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type clusterMetric, METRIC_NAMESPACE, METRIC_SERVICE } from '../core/metric-names';
import type { FunctionClients } from '../spec';
import { DynamoCatalog } from './dynamo-catalog';
import { S3ObjectStore } from './s3-object-store';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Clients for code running in Lambda, created on first use (not at import, so tests can import
 * handlers without credentials). The SDK's standard retry mode retries throttling and 5xx with
 * exponential backoff and jitter.
 */
let clients: FunctionClients | undefined;

export function awsClients(): FunctionClients {
  clients ??= {
    dynamodb: new DynamoDBClient({ maxAttempts: 8, retryMode: 'adaptive' }),
    s3: new S3Client({ maxAttempts: 6 }),
    sfn: new SFNClient({ maxAttempts: 6 }),
    kinesis: new KinesisClient({ maxAttempts: 6 }),
  };
  return clients;
}

export const catalogFor = (tableName: string) => new DynamoCatalog(awsClients().dynamodb, tableName);
export const storeFor = (bucket: string) => new S3ObjectStore(awsClients().s3, bucket);

export const logger = new Logger({ serviceName: METRIC_SERVICE });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

/**
 * Publish one value with a `cluster` dimension at once (dimensions `service`, `cluster`: the
 * set the per-cluster alarms watch).
 */
export function publishClusterMetric(
  cluster: string,
  name: (typeof clusterMetric)[keyof typeof clusterMetric],
  unit: Unit,
  value: number,
): void {
  const single = metrics.singleMetric();
  single.addDimension('cluster', cluster);
  single.addMetric(name, unit, value);
}
