import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { nowMicros } from '../../functions/adapters/clock';
import { CATALOG_SCHEMA_VERSION, type ClusterRecord } from '../../functions/core/catalog-model';
import { ClusterNotFoundError, InvalidInputError } from '../../functions/core/errors';
import { formatIsoMicros } from '../../functions/core/time';
import { enableChangeCapture } from '../../local/change-capture';
import { act, type CliContext, type CommandGroup } from '../context';
import { UsageError } from '../errors';
import { clusterDetails, clusterTable, clusterView } from '../format';
import * as parse from '../validate';

const DEFAULT_RETENTION_DAYS = 7;

interface RegisterOptions {
  cluster: string;
  tables: string[];
  retentionDays: number;
  schedule?: string;
  timeZone?: string;
}

export const clusterCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  const group = program.command('cluster').description('clusters: named sets of tables protected together');

  group
    .command('register')
    .description(
      'local cloud: protect existing tables as one cluster (re-registering replaces its configuration). ' +
        'On AWS clusters come from the CDK configuration instead.',
    )
    .requiredOption('--cluster <name>', 'cluster name (1-100 of [A-Za-z0-9_.-])', parse.name)
    .requiredOption('--tables <t1,t2>', 'comma-separated names of existing DynamoDB tables', parse.tableList)
    .option(
      '--retention-days <days>',
      'keep automatic backups this many days',
      parse.positiveInt,
      DEFAULT_RETENTION_DAYS,
    )
    .option('--schedule <cron>', 'automatic backup schedule: 5-field cron, e.g. "15 3 * * *"', parse.cron)
    .option('--time-zone <tz>', 'IANA time zone the schedule runs in (default UTC)', parse.timeZone)
    .action(act(ctx, (options: RegisterOptions) => register(ctx, options)));

  group
    .command('list')
    .description('registered clusters')
    .action(
      act(ctx, async () => {
        const clusters = (await (await ctx.target()).catalog.listClusters()).map(clusterView);
        ctx.out.result({ clusters }, () => clusterTable(clusters));
      }),
    );

  group
    .command('describe')
    .description("a cluster's configuration")
    .argument('<cluster>', 'cluster name', parse.name)
    .action(
      act(ctx, async (name: string) => {
        const cluster = await (await ctx.target()).catalog.getCluster(name);
        if (!cluster) throw new ClusterNotFoundError(name);
        const view = clusterView(cluster);
        ctx.out.result(view, () => clusterDetails(view));
      }),
    );
};

async function register(ctx: CliContext, options: RegisterOptions): Promise<void> {
  if (options.timeZone && !options.schedule)
    throw new UsageError('--time-zone applies to --schedule: give both or neither', '--time-zone');
  const choice = ctx.choice();
  if (choice.kind === 'aws')
    throw new UsageError(
      `cluster register works on the local cloud only. On AWS (${choice.stack}), clusters come from the ` +
        'CDK configuration: add the cluster to rewind.config.json (a ProtectedCluster per entry, see ' +
        'cdk/config.ts) and run `cdk deploy`; or pass --local to register it in the local cloud.',
      '--local',
    );
  const target = await ctx.target();
  for (const table of options.tables) {
    try {
      await target.dynamodb.send(new DescribeTableCommand({ TableName: table }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException)
        throw new InvalidInputError(
          '--tables',
          `existing DynamoDB tables of the ${target.description}; table "${table}" does not exist`,
          { cause: error },
        );
      throw error;
    }
  }
  // Local stand-in for enabling the Kinesis streaming destination (idempotent): the log backup starts here.
  if (target.local) await enableChangeCapture(target.local, options.cluster, options.tables);
  const existing = await target.catalog.getCluster(options.cluster);
  const record: ClusterRecord = {
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: options.cluster,
    tables: options.tables,
    retentionDays: options.retentionDays,
    schedule: options.schedule,
    timeZone: options.schedule ? options.timeZone : undefined,
    createdAt: existing?.createdAt ?? formatIsoMicros(nowMicros()),
  };
  await target.catalog.putCluster(record);
  const view = clusterView((await target.catalog.getCluster(options.cluster)) ?? record);
  ctx.out.result(view, () => `${existing ? 'updated' : 'registered'} cluster\n${clusterDetails(view)}`);
}
