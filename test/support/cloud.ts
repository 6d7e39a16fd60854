import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { createDemoTable, type DemoTableKind, demoItem, loadItems, range } from '../../demo/workload';
import type { Catalog } from '../../functions/adapters/catalog';
import { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { dynamoClient, type LocalConfig, lambdaClient, s3Client } from '../../local/clients';
import { type LocalFunctionRegistry, startControlPlane } from '../../local/control-plane';
import { createLocalFunctions, type LocalFunctionOverrides, localStateMachines } from '../../local/functions';

/** Clients for the shared local cloud of the integration project. */
export function localClients(cfg: LocalConfig) {
  const dynamodb = dynamoClient(cfg);
  return {
    dynamodb,
    catalog: new DynamoCatalog(dynamodb, cfg.catalogTable),
    store: new S3ObjectStore(s3Client(cfg), cfg.bucket),
    lambda: lambdaClient(cfg),
  };
}

let seq = 0;
/** Names unique to this run, so test files sharing the emulators never collide. */
export const uniqueName = (base: string) => `${base}-${Date.now().toString(36)}-${seq++}`;

/**
 * A control plane of its own (same emulators) whose functions use `overrides` — a forced-low
 * timeout, say (`{ timeoutsMs: { 'scan-segment': 1_000 } }`) — and optionally a wrapper that
 * injects faults at the Lambda boundary.
 */
export async function privateControlPlane(
  cfg: LocalConfig,
  overrides: LocalFunctionOverrides,
  wrap: (registry: LocalFunctionRegistry) => LocalFunctionRegistry = (r) => r,
) {
  const functions: LocalFunctionRegistry = {};
  const plane = await startControlPlane({
    functions,
    stateMachines: localStateMachines(),
    region: cfg.region,
  });
  const own: LocalConfig = {
    ...cfg,
    endpoints: { ...cfg.endpoints, lambda: plane.endpoint, stepfunctions: plane.endpoint },
  };
  Object.assign(functions, wrap(createLocalFunctions(own, overrides)));
  return { config: own, lambda: lambdaClient(own), stop: () => plane.stop() };
}

export interface InvokeResult {
  payload: unknown;
  functionError?: string;
}

export async function invoke(
  lambda: LambdaClient,
  functionName: string,
  event: unknown,
): Promise<InvokeResult> {
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
  return { payload: text ? JSON.parse(text) : undefined, functionError: response.FunctionError };
}

/** Poll the catalog until the backup leaves RUNNING. */
export async function waitForBackup(
  catalog: Catalog,
  cluster: string,
  backupId: string,
  timeoutMs = 170_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const backup = await catalog.getBackup(cluster, backupId);
    if (backup && backup.status !== 'RUNNING') return backup;
    if (Date.now() > deadline)
      throw new Error(`backup ${backupId} still ${backup?.status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Create a demo table (unique name from `prefix`) filled with `items` typed items. */
export async function demoTable(
  dynamodb: DynamoDBClient,
  kind: DemoTableKind,
  items: number,
  prefix: string = kind,
): Promise<string> {
  const name = uniqueName(prefix);
  await createDemoTable(dynamodb, name, kind);
  await loadItems(
    dynamodb,
    name,
    (function* () {
      for (const i of range(items)) yield demoItem(kind, i);
    })(),
  );
  return name;
}

/** Create demo tables filled with `itemsPerTable` typed items and register them as a cluster. */
export async function demoCluster(
  cfg: LocalConfig,
  tables: { kind: DemoTableKind; items: number }[],
): Promise<{ cluster: string; tableNames: string[] }> {
  const { dynamodb, catalog } = localClients(cfg);
  const cluster = uniqueName('cl');
  const tableNames = await Promise.all(tables.map(({ kind, items }) => demoTable(dynamodb, kind, items)));
  await catalog.putCluster({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: cluster,
    tables: tableNames,
    retentionDays: 7,
    createdAt: new Date().toISOString(),
  });
  return { cluster, tableNames };
}

export async function startAndWait(
  lambda: LambdaClient,
  catalog: Catalog,
  cluster: string,
): Promise<BackupRecord> {
  const started = await invoke(lambda, 'start-backup', { cluster });
  if (started.functionError) throw new Error(`start-backup failed: ${JSON.stringify(started.payload)}`);
  const { backupId } = started.payload as { backupId: string };
  return waitForBackup(catalog, cluster, backupId);
}
