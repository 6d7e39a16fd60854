import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { demoItem } from './workload';

/**
 * The demo's continuous workload and its "bad deploy". Writes go to the orders table's keys
 * `customer#k / n`; each writer step is a put, an update or a delete of a random existing key.
 */
export function startWorkload(client: DynamoDBClient, table: string, keyCount: number, opsPerSecond: number) {
  let running = true;
  let ops = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const i = Math.floor(Math.random() * keyCount);
      const roll = Math.random();
      if (roll < 0.5) {
        await client.send(new PutItemCommand({ TableName: table, Item: demoItem('orders', i) as never }));
      } else if (roll < 0.85) {
        const { pk, sk } = demoItem('orders', i);
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk, sk } as never,
            UpdateExpression: 'SET #s = :s, revision = if_not_exists(revision, :zero) + :one',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': { S: 'edited' }, ':zero': { N: '0' }, ':one': { N: '1' } },
          }),
        );
      } else {
        const { pk, sk } = demoItem('orders', i);
        await client.send(new DeleteItemCommand({ TableName: table, Key: { pk, sk } as never }));
      }
      ops++;
      const wait = 1000 / opsPerSecond - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return ops;
    },
  };
}

/** The mistake: delete `count` items and overwrite `count` others with garbage. */
export async function badDeploy(client: DynamoDBClient, table: string, keyCount: number, count: number) {
  for (let n = 0; n < count; n++) {
    const victim = demoItem('orders', (n * 7919) % keyCount);
    await client.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: victim.pk, sk: victim.sk } as never }),
    );
    const corrupted = demoItem('orders', (n * 7919 + 1) % keyCount);
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: corrupted.pk,
          sk: corrupted.sk,
          status: { S: 'CORRUPTED' },
          amount: { N: '-1' },
        } as never,
      }),
    );
  }
}
