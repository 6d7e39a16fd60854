import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupNotFoundError, StaleStateError } from '../../functions/core/errors';
import {
  dynamoClient,
  kinesisClient,
  LocalCloudNotRunningError,
  lambdaClient,
  readLocalConfig,
  s3Client,
  sfnClient,
  writeLocalConfig,
} from '../../local/clients';
import { LocalCloudAlreadyRunningError, startLocalCloud } from '../../local/cloud';
import { type ControlPlane, startControlPlane } from '../../local/control-plane';
import { bareRegistry } from '../../local/sfn-runner';

const cfg = inject('localConfig');
const suffix = randomUUID().slice(0, 8);

describe('emulators through the SDK clients', () => {
  it('DynamoDB Local creates a table and round-trips an item', async () => {
    // Prepare
    const ddb = dynamoClient(cfg);
    const TableName = `local-cloud-${suffix}`;
    await ddb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );

    // Act
    await ddb.send(
      new PutItemCommand({ TableName, Item: { id: { S: 'a' }, n: { N: '12345678901234567890.5' } } }),
    );
    const got = await ddb.send(
      new GetItemCommand({ TableName, Key: { id: { S: 'a' } }, ConsistentRead: true }),
    );

    // Assess
    expect(got.Item?.n).toEqual({ N: '12345678901234567890.5' });
  });

  it('kinesalite creates a stream and returns a put record', async () => {
    // Prepare
    const kinesis = kinesisClient(cfg);
    const StreamName = `local-cloud-${suffix}`;
    await kinesis.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    let description = await kinesis.send(new DescribeStreamCommand({ StreamName }));
    while (description.StreamDescription?.StreamStatus !== 'ACTIVE') {
      await new Promise((r) => setTimeout(r, 50));
      description = await kinesis.send(new DescribeStreamCommand({ StreamName }));
    }
    const ShardId = description.StreamDescription.Shards?.[0]?.ShardId;

    // Act
    await kinesis.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from('hello') }));
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const records = await kinesis.send(new GetRecordsCommand({ ShardIterator }));

    // Assess
    expect(records.Records?.map((r) => Buffer.from(r.Data ?? []).toString())).toEqual(['hello']);
  });

  it('s3rver stores a streamed multipart upload byte for byte', async () => {
    // Prepare: a stream (unknown length) larger than one 5 MiB part
    const s3 = s3Client(cfg);
    const bytes = randomBytes(6 * 1024 * 1024 + 123);
    const Key = `local-cloud/${suffix}/blob.bin`;

    // Act
    await new Upload({
      client: s3,
      params: {
        Bucket: cfg.bucket,
        Key,
        Body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      },
      partSize: 5 * 1024 * 1024,
    }).done();
    const got = await s3.send(new GetObjectCommand({ Bucket: cfg.bucket, Key }));
    const stored = Buffer.from((await got.Body?.transformToByteArray()) ?? []);

    // Assess: aws-chunked framing stored inside the object would change the hash
    expect(stored.length).toBe(bytes.length);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
  });

  it('s3rver pages ListObjectsV2 with continuation tokens', async () => {
    // Prepare
    const s3 = s3Client(cfg);
    const Prefix = `local-cloud/${suffix}/list/`;
    const keys = Array.from({ length: 23 }, (_, i) => `${Prefix}${String(i).padStart(3, '0')}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: cfg.bucket, Key, Body: Key }));

    // Act
    const listed: string[] = [];
    let pages = 0;
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: cfg.bucket, Prefix, MaxKeys: 10, ContinuationToken }),
      );
      pages += 1;
      listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);

    // Assess
    expect(pages).toBe(3);
    expect(listed).toEqual(keys);
  });
});

// A small machine with everything Rewind's state machines lean on: Lambda tasks with Retry, a
// Choice loop, a Map with MaxConcurrency, Catch on a custom error name.
/** `${Name}`, the CDK definition-substitution placeholder. */
const placeholder = (name: string) => `\${${name}}`;

const TEST_ASL = {
  StartAt: 'Count',
  States: {
    Count: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: placeholder('CounterFunctionArn'), 'Payload.$': '$' },
      ResultSelector: {
        'count.$': '$.Payload.count',
        'items.$': '$.Payload.items',
        'mode.$': '$.Payload.mode',
      },
      // 30 s between attempts on AWS; the local retry override makes it immediate.
      Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 30, MaxAttempts: 2 }],
      Next: 'Again?',
    },
    'Again?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.count', NumericLessThan: 3, Next: 'Count' }],
      Default: 'Fan',
    },
    Fan: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 2,
      ItemProcessor: {
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: placeholder('WorkFunctionArn'), 'Payload.$': '$' },
            OutputPath: '$.Payload',
            End: true,
          },
        },
      },
      ResultPath: '$.results',
      Next: 'Commit',
    },
    Commit: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: placeholder('CommitFunctionArn'), 'Payload.$': '$' },
      Catch: [{ ErrorEquals: ['StaleStateError'], ResultPath: '$.caught', Next: 'Recovered' }],
      Next: 'Recovered',
    },
    Recovered: { Type: 'Pass', End: true },
  },
};

describe('control plane', () => {
  let plane: ControlPlane;
  let dir: string;
  let sfn: SFNClient;
  const calls = { counter: 0, running: 0, maxRunning: 0 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-cp-'));
    const aslPath = join(dir, 'test.asl.json');
    await writeFile(aslPath, JSON.stringify(TEST_ASL));
    plane = await startControlPlane({
      functions: bareRegistry({
        echo: async (payload) => ({ echoed: payload, at: new Date(0) }),
        conflict: async () => {
          throw new StaleStateError('backup b1', 'RUNNING');
        },
        counter: async (payload) => {
          calls.counter += 1;
          if (calls.counter === 1) throw Object.assign(new Error('first call fails'), { name: 'FlakyError' });
          const state = payload as { count?: number; mode?: string };
          return { count: (state.count ?? 0) + 1, items: [1, 2, 3, 4, 5], mode: state.mode ?? 'catch' };
        },
        work: async (item) => {
          calls.running += 1;
          calls.maxRunning = Math.max(calls.maxRunning, calls.running);
          await new Promise((r) => setTimeout(r, 30));
          calls.running -= 1;
          return (item as number) * 2;
        },
        commit: async (payload) => {
          if ((payload as { mode: string }).mode === 'catch')
            throw new StaleStateError('backup b1', 'RUNNING');
          throw new BackupNotFoundError('c1', 'b1');
        },
      }),
      stateMachines: [
        {
          name: 'local-test',
          aslPath,
          substitutions: {
            CounterFunctionArn: 'counter',
            WorkFunctionArn: 'work',
            CommitFunctionArn: 'commit',
          },
        },
      ],
    });
    sfn = sfnClient({ ...cfg, endpoints: { ...cfg.endpoints, stepfunctions: plane.endpoint } });
  });

  afterAll(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const lambda = () => lambdaClient({ ...cfg, endpoints: { ...cfg.endpoints, lambda: plane.endpoint } });

  it('answers Lambda Invoke with the handler result, by name or ARN', async () => {
    // Act
    const out = await lambda().send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:rewind-echo',
        Payload: JSON.stringify({ a: 1 }),
      }),
    );

    // Assess
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({
      echoed: { a: 1 },
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('reports a thrown error as FunctionError Unhandled, and an unknown function as 404', async () => {
    // Act
    const out = await lambda().send(new InvokeCommand({ FunctionName: 'conflict', Payload: '{}' }));
    const missing = await lambda()
      .send(new InvokeCommand({ FunctionName: 'nope' }))
      .catch((err: unknown) => err);

    // Assess
    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toMatchObject({
      errorType: 'StaleStateError',
      errorMessage: 'backup b1 is not RUNNING (changed since read)',
    });
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (;;) {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('runs an execution: Retry, Choice loop, Map with MaxConcurrency, Catch on an error name', async () => {
    // Prepare
    const stateMachineArn = plane.stateMachineArn('local-test');

    // Act
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'catch', input: '{}' }),
    );
    const out = await finished(started.executionArn ?? '');

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(out.startDate).toBeInstanceOf(Date);
    expect(out.stopDate?.getTime()).toBeGreaterThanOrEqual(out.startDate?.getTime() ?? Infinity);
    const output = JSON.parse(out.output ?? 'null');
    expect(output.count).toBe(3);
    expect(output.results).toEqual([2, 4, 6, 8, 10]);
    expect(output.caught.Error).toBe('StaleStateError');
    expect(JSON.parse(output.caught.Cause)).toMatchObject({ errorType: 'StaleStateError' });
    expect(calls.counter).toBe(4); // one FlakyError retried, then three loop turns
    expect(calls.maxRunning).toBe(2);
  });

  it('fails an execution with the uncaught error name and cause; names are unique', async () => {
    // Prepare
    const stateMachineArn = plane.stateMachineArn('local-test');

    // Act
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'fail', input: JSON.stringify({ mode: 'fail' }) }),
    );
    const out = await finished(started.executionArn ?? '');
    const again = await sfn
      .send(new StartExecutionCommand({ stateMachineArn, name: 'fail', input: '{}' }))
      .catch((err: unknown) => err);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    await plane.waitForIdle();

    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('BackupNotFoundError');
    expect(JSON.parse(out.cause ?? '{}').errorMessage).toBe('backup "b1" of cluster "c1" does not exist');
    expect(again).toBeInstanceOf(ExecutionAlreadyExists);
    expect(listed.executions?.map((e) => [e.name, e.status])).toEqual([
      ['fail', 'FAILED'],
      ['catch', 'SUCCEEDED'],
    ]);
  });
});

describe('local cloud lifecycle', () => {
  it('stop() leaves no emulator process alive and removes local.json', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'rewind-life-'));
    const cloud = await startLocalCloud({ dir });
    const pids = Object.values(cloud.emulators.pids);
    const whileRunning = await readLocalConfig(dir);

    // Act
    await cloud.stop();

    // Assess
    expect(whileRunning.endpoints).toEqual(cloud.config.endpoints);
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    await expect(readLocalConfig(dir)).rejects.toBeInstanceOf(LocalCloudNotRunningError);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start over a local cloud that another live process runs', async () => {
    // Prepare: local.json owned by our parent process, which is alive
    const dir = await mkdtemp(join(tmpdir(), 'rewind-busy-'));
    await writeLocalConfig({ ...cfg, dir, pid: process.ppid });

    // Act
    const error = await startLocalCloud({ dir }).catch((err: unknown) => err);

    // Assess
    expect(error).toBeInstanceOf(LocalCloudAlreadyRunningError);
    expect(String(error)).toContain(`pid ${process.ppid}`);
    await rm(dir, { recursive: true, force: true });
  });
});
