import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DynamoLogCatalog } from '../functions/adapters/dynamo-log-catalog';
import { formatIsoMicros, type Micros } from '../functions/core/time';
import { dynamoClient, type LocalConfig, lambdaClient } from '../local/clients';

/**
 * What EventBridge does every minute on AWS, on demand: invoke advance-checkpoint on the local
 * cloud until the cluster's checkpoint reaches `target`, and return it (demo, tests).
 */
export async function advanceCheckpointUntil(
  cfg: LocalConfig,
  cluster: string,
  target: Micros,
  timeoutMs = 120_000,
): Promise<Micros> {
  const lambda = lambdaClient(cfg);
  const dynamodb = dynamoClient(cfg);
  const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      await lambda.send(
        new InvokeCommand({
          FunctionName: 'advance-checkpoint',
          Payload: new TextEncoder().encode(JSON.stringify({ cluster })),
        }),
      );
      const checkpoint = (await logCatalog.getClusterCheckpoint(cluster))?.checkpoint;
      if (checkpoint !== undefined && checkpoint >= target) return checkpoint;
      if (Date.now() > deadline)
        throw new Error(`checkpoint still ${checkpoint} short of ${formatIsoMicros(target)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    lambda.destroy();
    dynamodb.destroy();
  }
}
