import { InvokeCommand } from '@aws-sdk/client-lambda';
import { startBackupSpec } from '../../functions/start-backup/spec';
import { type LocalConfig, lambdaClient } from '../../local/clients';
import type { LocalCloud } from '../../local/cloud';
import { type LocalFunctionRegistry, startControlPlane } from '../../local/control-plane';
import { createLocalFunctions, type LocalFunctionOverrides, localStateMachines } from '../../local/functions';
import { type Context, type Measurement, measure, type PipelinePlane } from './context';

// Variant E: the real pipeline, from the start-backup Invoke to the backup COMPLETED.

/**
 * The control plane the pipeline runs on: the local cloud's own (the real local path), or, when
 * settings are overridden, a private one on the same emulators whose functions use them (the
 * pattern of test/support/cloud.ts privateControlPlane).
 */
export async function pipelinePlane(
  cloud: LocalCloud,
  overrides: LocalFunctionOverrides,
): Promise<PipelinePlane> {
  const cfg = cloud.config;
  if (Object.keys(overrides).length === 0) {
    const lambda = lambdaClient(cfg);
    return {
      lambda,
      waitForIdle: () => cloud.controlPlane.waitForIdle(),
      stop: async () => lambda.destroy(),
    };
  }
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
  Object.assign(functions, createLocalFunctions(own, overrides));
  const lambda = lambdaClient(own);
  return {
    lambda,
    waitForIdle: () => plane.waitForIdle(),
    stop: async () => {
      lambda.destroy();
      await plane.stop();
    },
  };
}

export async function pipeline(ctx: Context, cluster: string, round: number): Promise<Measurement> {
  let invokedAt = 0;
  let idleAt = 0;
  const m = await measure(ctx, 'pipeline', round, async () => {
    invokedAt = Date.now();
    const response = await ctx.plane.lambda.send(
      new InvokeCommand({
        FunctionName: startBackupSpec.name,
        Payload: new TextEncoder().encode(JSON.stringify({ cluster, kind: 'manual' })),
      }),
    );
    const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    if (response.FunctionError) throw new Error(`start-backup failed: ${text}`);
    const { backupId } = JSON.parse(text) as { backupId: string };
    // The execution is registered before start-backup returns; idle = it has finished.
    await ctx.plane.waitForIdle();
    idleAt = Date.now();
    return { items: 0, backupId };
  });
  const backup = await ctx.catalog.getBackup(cluster, m.backupId ?? '');
  if (backup?.status !== 'COMPLETED')
    throw new Error(`backup ${m.backupId} ended ${backup?.status}: ${JSON.stringify(backup?.failure)}`);
  const startMs = (backup.startTs ?? 0) / 1000;
  const endMs = (backup.endTs ?? 0) / 1000;
  return {
    ...m,
    items: backup.items,
    rawBytes: backup.rawBytes,
    storedBytes: backup.storedBytes,
    phases: {
      prepare: (startMs - invokedAt) / 1000,
      scans: (endMs - startMs) / 1000,
      finalize: (idleAt - endMs) / 1000,
    },
  };
}
