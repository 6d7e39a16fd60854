import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { memoryIo } from '../../cli/io';
import { main } from '../../cli/main';
import { compareItemSets, setsMatch, tableItems } from '../../demo/snapshot-check';
import { nowMicros } from '../../functions/adapters/clock';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../../functions/adapters/dynamo-restore-catalog';
import { DynamoTargetTables } from '../../functions/adapters/restore-tables';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import type { BackupRecord } from '../../functions/core/catalog-model';
import type { Item } from '../../functions/core/dynamo-json';
import { LOG_SCHEMA_VERSION } from '../../functions/core/log-model';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { run as restoreLoad } from '../../functions/restore-load/run';
import { run as restoreReplay } from '../../functions/restore-replay/run';
import { dynamoClient, s3Client } from '../../local/clients';
import { localFunction } from '../../local/sfn-runner';
import { demoCluster, invoke, localClients, privateControlPlane, startAndWait } from '../support/cloud';
import { JournaledWorkload } from '../support/restore-workload';

/**
 * Point-in-time restore on the emulators, through the real snapshot pipeline, the real restore
 * state machine (restore.asl.json in the local runner) and the CLI. The log is written by the
 * test in Rewind's log layout from a journal of acknowledged writes (see JournaledWorkload).
 */
const cfg = inject('localConfig');
const { dynamodb, catalog, store, lambda } = localClients(cfg);
const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
const restores = new DynamoRestoreCatalog(dynamodb, cfg.catalogTable);

async function rewind(...argv: string[]) {
  const capture = memoryIo({ cwd: cfg.dir });
  const code = await main(['--local', cfg.dir, ...argv, '--json'], capture.io, { pollIntervalMs: 200 });
  const stdout = capture.stdout();
  return { code, stderr: capture.stderr(), json: () => JSON.parse(stdout) as Record<string, unknown> };
}

let cluster: string;
let tableNames: string[];
let workload: JournaledWorkload;
let backup: BackupRecord;
let checkpoint: Micros;

beforeAll(async () => {
  ({ cluster, tableNames } = await demoCluster(cfg, [
    { kind: 'orders', items: 600 },
    { kind: 'blobs', items: 400 },
  ]));
  workload = new JournaledWorkload(dynamodb, [
    { name: tableNames[0] ?? '', kind: 'orders', keys: 700 },
    { name: tableNames[1] ?? '', kind: 'blobs', keys: 450 },
  ]);
  await workload.captureInitial();
  // Writes continue before, during and after the snapshot.
  workload.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  backup = await startAndWait(lambda, catalog, cluster);
  while (nowMicros() < (backup.restorableFrom ?? 0) + 400_000) await new Promise((r) => setTimeout(r, 50));
  await workload.stop();
  await workload.shipLog(cluster, store, logCatalog);
  checkpoint = nowMicros();
  await logCatalog.advanceClusterCheckpoint({
    schemaVersion: LOG_SCHEMA_VERSION,
    cluster,
    checkpoint,
    computedAt: checkpoint,
    marginMicros: 1_000_000,
    limitedBy: 'test',
    activeShards: 1,
  });
}, 170_000);

afterAll(() => dynamodb.destroy());

/** Every restored table equals the journal's oracle at `at`, item by item. */
async function expectRestoredAt(prefix: string, at: Micros) {
  for (const source of tableNames) {
    const comparison = compareItemSets(
      workload.stateAt(source, at),
      await tableItems(dynamodb, `${prefix}${source}`),
    );
    expect(setsMatch(comparison), `${source}: ${JSON.stringify(comparison)}`).toBe(true);
  }
}

describe('point-in-time restore on the emulators', () => {
  it('restores a snapshot taken under concurrent writes exactly to its restorable instant (--to backup:ID)', async () => {
    // Act
    const result = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      `backup:${backup.backupId}`,
      '--target-prefix',
      'pitr-',
      '--wait',
    );
    // Assess
    expect(backup.status).toBe('COMPLETED');
    expect(workload.changesBetween(backup.startTs ?? 0, backup.endTs ?? 0)).toBeGreaterThan(0);
    expect(workload.changesBetween((backup.restorableFrom ?? 0) + 1, checkpoint)).toBeGreaterThan(0);
    expect(result.code, result.stderr).toBe(0);
    const doc = result.json();
    const at = backup.restorableFrom ?? 0;
    expect(doc).toMatchObject({
      status: 'COMPLETED',
      restorePoint: formatIsoMicros(at),
      backupId: backup.backupId,
    });
    await expectRestoredAt('pitr-', at);
    const tables = doc.tables as { source: string; target: string; items: number }[];
    for (const t of tables) expect(t.items).toBe(workload.stateAt(t.source, at).length);
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: `pitr-${tableNames[0]}` }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['by-status']);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const described = await rewind('restore', 'describe', String(doc.restoreId), '--cluster', cluster);
    const phases = described.json().phases as {
      load: { items: number };
      replay: { records: number; duplicates: number };
    };
    expect(phases.load.items).toBe(backup.items);
    expect(phases.replay.records).toBeGreaterThan(0);
    expect(phases.replay.duplicates).toBeGreaterThan(0);
    process.stderr.write(
      `[restore-pitr] ${workload.journal.length} changes journaled, ${workload.changesBetween(backup.startTs ?? 0, backup.endTs ?? 0)} during the snapshot; replay kept ${phases.replay.records} (${phases.replay.duplicates} duplicates)\n`,
    );
    expect(described.json()).toMatchObject({
      status: 'COMPLETED',
      phases: {
        createTables: { status: 'DONE' },
        load: { status: 'DONE' },
        replay: { status: 'DONE' },
        verify: { status: 'DONE' },
      },
    });
  });

  it('restores to an instant between the snapshot and the checkpoint, with duplicates and shuffled log, --tables filter', async () => {
    const at = Math.round(((backup.restorableFrom ?? 0) + checkpoint) / 2);
    const result = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      formatIsoMicros(at),
      '--target-prefix',
      'mid-',
      '--tables',
      tableNames[1] ?? '',
      '--wait',
    );
    expect(result.code, result.stderr).toBe(0);
    expect((result.json().tables as unknown[]).length).toBe(1);
    const comparison = compareItemSets(
      workload.stateAt(tableNames[1] ?? '', at),
      await tableItems(dynamodb, `mid-${tableNames[1]}`),
    );
    expect(setsMatch(comparison), JSON.stringify(comparison)).toBe(true);
  });

  it('replaying every partition twice over the loaded tables gives the same tables', async () => {
    // Prepare: a control plane whose replay worker applies its unit, then applies it again.
    const deps = replayDeps();
    const plane = await privateControlPlane(
      cfg,
      { env: { 'restore-plan-replay': { TARGET_RECORDS_PER_PARTITION: 40 } } },
      (registry) => ({
        ...registry,
        'restore-replay': localFunction(async (event) => {
          await restoreReplay(event, { ...deps, restoreCatalog: forgetReplayProgress(deps.restoreCatalog) });
          return restoreReplay(event, { ...deps, restoreCatalog: forgetReplayProgress(deps.restoreCatalog) });
        }),
      }),
    );
    try {
      // Act
      const started = await invoke(plane.lambda, 'start-restore', {
        cluster,
        to: `backup:${backup.backupId}`,
        targetPrefix: 'twice-',
      });
      const job = await waitForJob(cluster, (started.payload as { restoreId: string }).restoreId);
      // Assess
      expect(job?.status, JSON.stringify(job?.failure)).toBe('COMPLETED');
      await expectRestoredAt('twice-', backup.restorableFrom ?? 0);
    } finally {
      await plane.stop();
    }
  });

  it.each(['load', 'replay'] as const)(
    'a restore interrupted during %s and resumed ends in the same result',
    async (phase) => {
      // Prepare: the worker of that phase dies mid-phase, once: after 100 writes of the ~1,000
      // loaded items, or after 20 of the replay's (the changes in the snapshot's log window: their
      // number follows the snapshot's duration, about 80-110 here).
      const dieAt = phase === 'load' ? 100 : 20;
      const deps = replayDeps();
      let writes = 0;
      const dying = new (class extends DynamoTargetTables {
        override writer(table: string, options?: { concurrency?: number }) {
          const inner = super.writer(table, options);
          const maybeDie = () => {
            if (++writes === dieAt) throw new Error('worker killed');
          };
          return {
            put: async (item: Item) => {
              maybeDie();
              return inner.put(item);
            },
            delete: async (key: Item) => {
              maybeDie();
              return inner.delete(key);
            },
            flush: () => inner.flush(),
          };
        }
      })(deps.dynamodb);
      const plane = await privateControlPlane(
        cfg,
        { env: { 'restore-plan-replay': { TARGET_RECORDS_PER_PARTITION: 40 } } },
        (registry) => ({
          ...registry,
          ...(phase === 'load'
            ? {
                'restore-load': localFunction((event) =>
                  restoreLoad(event, {
                    ...deps,
                    tables: dying,
                    remainingMs: () => 900_000,
                    config: { writeConcurrency: 4, timeReserveMs: 1_000 },
                  }),
                ),
              }
            : {
                'restore-replay': localFunction((event) => restoreReplay(event, { ...deps, tables: dying })),
              }),
        }),
      );
      const prefix = `cut-${phase}-`;
      try {
        const started = await invoke(plane.lambda, 'start-restore', {
          cluster,
          to: `backup:${backup.backupId}`,
          targetPrefix: prefix,
        });
        const restoreId = (started.payload as { restoreId: string }).restoreId;
        const failed = await waitForJob(cluster, restoreId);
        // Act
        const resumed = await rewind('restore', 'resume', restoreId, '--cluster', cluster, '--wait');
        // Assess
        expect(failed).toMatchObject({ status: 'FAILED', failure: { cause: 'Error: worker killed' } });
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.json()).toMatchObject({ status: 'COMPLETED', attempt: 2 });
        await expectRestoredAt(prefix, backup.restorableFrom ?? 0);
      } finally {
        await plane.stop();
      }
    },
  );

  it('refuses, exit 2 naming the flag and the window: after the checkpoint, before the earliest instant, a non-empty target, a gap', async () => {
    const late = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      formatIsoMicros(checkpoint + 3_600_000_000),
      '--target-prefix',
      'late-',
    );
    expect(late.code).toBe(2);
    expect(late.stderr).toContain(`log checkpoint ${formatIsoMicros(checkpoint)}`);
    expect(late.json()).toMatchObject({ error: { type: 'RestorePointAfterCheckpointError', field: '--to' } });

    const early = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      formatIsoMicros(backup.startTs ?? 0),
      '--target-prefix',
      'early-',
    );
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(
      `earliest restorable instant ${formatIsoMicros(backup.restorableFrom ?? 0)}`,
    );

    const occupied = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      'latest',
      '--target-prefix',
      'pitr-',
    );
    expect(occupied.code).toBe(2);
    expect(occupied.json()).toMatchObject({
      error: { type: 'TargetTableNotEmptyError', field: '--target-prefix' },
    });

    const badFlag = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      'yesterday',
      '--target-prefix',
      'x-',
    );
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--to');

    const gapFrom = (backup.restorableFrom ?? 0) + 100_000;
    await logCatalog.recordGap({
      schemaVersion: LOG_SCHEMA_VERSION,
      gapId: 'shardId-000000000000:1-2',
      cluster,
      table: tableNames[0],
      shardId: 'shardId-000000000000',
      startSequenceNumber: '1',
      endSequenceNumber: '2',
      fromTs: gapFrom,
      toTs: gapFrom + 1_000,
      records: 2,
      reason: 'test',
      recordedAt: nowMicros(),
    });
    const gap = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      'latest',
      '--target-prefix',
      'gap-',
    );
    expect(gap.code).toBe(2);
    expect(gap.stderr).toContain('gap shardId-000000000000:1-2');
  });
});

function replayDeps() {
  const client = dynamoClient(cfg);
  return {
    dynamodb: client,
    restoreCatalog: new DynamoRestoreCatalog(client, cfg.catalogTable),
    logCatalog: new DynamoLogCatalog(client, cfg.catalogTable),
    store: new S3ObjectStore(s3Client(cfg), cfg.bucket),
    tables: new DynamoTargetTables(client),
    config: { writeConcurrency: 4 },
  };
}

/** The catalog, except that a job never shows replay progress: a unit is never skipped as done. */
function forgetReplayProgress(catalog: DynamoRestoreCatalog): DynamoRestoreCatalog {
  return Object.assign(Object.create(catalog), {
    getRestore: async (c: string, id: string) => {
      const job = await catalog.getRestore(c, id);
      return job && { ...job, replayUnits: {} };
    },
  });
}

async function waitForJob(clusterName: string, restoreId: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await restores.getRestore(clusterName, restoreId);
    if (job && job.status !== 'RUNNING') return job;
    if (Date.now() > deadline)
      throw new Error(`restore ${restoreId} still ${job?.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
