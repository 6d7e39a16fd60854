import type { Catalog } from '../functions/adapters/catalog';
import type { RestoreCatalog } from '../functions/adapters/restore-catalog';
import { EXECUTION_ENDED_FUNCTION, executionStatusChange } from './execution-events';
import { invokeLocal, type LocalFunctionRegistry, lookupFunction } from './sfn-runner';

/**
 * A local cloud that stopped or crashed took its executions with it: on the next start, every
 * backup or restore still RUNNING in the catalog has no execution any more. Each is reported
 * to execution-ended as an ABORTED execution, exactly as on AWS a stopped execution is, so it
 * is marked FAILED with the cause and its cluster lock freed (a FAILED restore can be resumed).
 * Returns what was marked.
 */
export async function failInterruptedWork(opts: {
  catalog: Catalog;
  restoreCatalog: RestoreCatalog;
  registry: LocalFunctionRegistry;
  stateMachineArn: (name: string) => string;
  snapshotMachine: string;
  restoreMachine: string;
  region: string;
  account: string;
}): Promise<string[]> {
  const fn = lookupFunction(opts.registry, EXECUTION_ENDED_FUNCTION);
  if (!fn) return [];
  const marked: string[] = [];
  const report = async (
    machine: string,
    name: string,
    input: Record<string, string>,
    startedAt: number,
    executionArn?: string,
  ) => {
    const stateMachineArn = opts.stateMachineArn(machine);
    const event = executionStatusChange(
      {
        executionArn: executionArn ?? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        stateMachineArn,
        name,
        status: 'ABORTED',
        input: JSON.stringify(input),
        error: 'LocalCloudStopped',
        cause: 'the local cloud stopped while this execution ran; found at the next local start',
        startDate: new Date(startedAt / 1000),
        stopDate: new Date(),
      },
      opts.region,
      opts.account,
    );
    const result = (await invokeLocal(fn, event, EXECUTION_ENDED_FUNCTION)) as { marked?: string };
    if (result?.marked && result.marked !== 'none') marked.push(`${result.marked} ${name}`);
  };
  for (const cluster of await opts.catalog.listClusters()) {
    for (const backup of await opts.catalog.listBackups(cluster.clusterName))
      if (backup.status === 'RUNNING')
        await report(
          opts.snapshotMachine,
          backup.backupId,
          { cluster: cluster.clusterName, backupId: backup.backupId },
          backup.requestedAt,
        );
    for (const job of await opts.restoreCatalog.listRestores(cluster.clusterName))
      if (job.status === 'RUNNING') {
        const input = { cluster: cluster.clusterName, restoreId: job.restoreId };
        await report(opts.restoreMachine, job.restoreId, input, job.requestedAt, job.executionArn);
      }
  }
  return marked;
}
