import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, lambdaClient, sfnClient } from '../../local/clients';
import { type ControlPlane, startControlPlane } from '../../local/control-plane';
import { bareRegistry, MAX_TIMEOUT_ENV, PAYLOAD_LIMIT_BYTES } from '../../local/sfn-runner';

// A private control plane only: no emulator is needed.
const settings = { region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
const MB = 1024 * 1024;
const text = (bytes: number) => 'x'.repeat(bytes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CAP_MS = 300;

const task = (fn: string, extra: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: fn, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...extra,
});

/** Routed by `$.case`: a too-large Task result, or a Task that runs past its budget. */
const LIMITS_ASL = {
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.case', StringEquals: 'timeout', Next: 'Slow' }],
      Default: 'Big',
    },
    Big: task('big', {
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' }],
      Next: 'Done',
    }),
    Slow: task('slow', {
      Catch: [{ ErrorEquals: ['Sandbox.Timedout'], ResultPath: '$.error', Next: 'MarkFailed' }],
      Next: 'Done',
    }),
    MarkFailed: task('mark-failed', { Next: 'Done' }),
    Done: { Type: 'Succeed' },
  },
};

describe('AWS hard limits in the local control plane', () => {
  let plane: ControlPlane;
  let dir: string;
  let sfn: SFNClient;
  const markFailed: unknown[] = [];
  let slowFinished = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-limits-'));
    const aslPath = join(dir, 'limits.asl.json');
    await writeFile(aslPath, JSON.stringify(LIMITS_ASL));
    const saved = process.env[MAX_TIMEOUT_ENV];
    process.env[MAX_TIMEOUT_ENV] = String(CAP_MS); // as `rewind local start` would inherit it
    try {
      plane = await startControlPlane({
        functions: bareRegistry({
          echo: async (payload) => ({ bytes: JSON.stringify(payload).length }),
          huge: async () => text(7 * MB),
          big: async () => text(PAYLOAD_LIMIT_BYTES + 1),
          slow: async () => {
            await sleep(CAP_MS * 4);
            slowFinished += 1;
            return 'too late';
          },
          clock: async (_payload, context) => {
            const first = context.getRemainingTimeInMillis();
            await sleep(20);
            return { first, second: context.getRemainingTimeInMillis() };
          },
          'mark-failed': async (payload) => {
            markFailed.push(payload);
            return payload;
          },
        }),
        stateMachines: [{ name: 'local-limits', aslPath, substitutions: {} }],
        stopGraceMs: 0,
      });
    } finally {
      if (saved === undefined) delete process.env[MAX_TIMEOUT_ENV];
      else process.env[MAX_TIMEOUT_ENV] = saved;
    }
    sfn = sfnClient({ ...settings, endpoints: { stepfunctions: plane.endpoint } });
  });

  afterAll(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const lambda = () => lambdaClient({ ...settings, endpoints: { lambda: plane.endpoint } });
  const payloadOf = (out: InvokeCommandOutput) => JSON.parse(Buffer.from(out.Payload ?? []).toString());

  async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (;;) {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await sleep(50);
    }
  }

  it('refuses a 7 MB synchronous invoke with 413 RequestEntityTooLargeException', async () => {
    // Prepare
    const Payload = JSON.stringify({ blob: text(7 * MB) });

    // Act
    const err = (await lambda()
      .send(new InvokeCommand({ FunctionName: 'echo', Payload }))
      .catch((e: unknown) => e)) as Error & { $metadata?: { httpStatusCode?: number } };

    // Assess
    expect(err.name).toBe('RequestEntityTooLargeException');
    expect(err.$metadata?.httpStatusCode).toBe(413);
    expect(err.message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
  });

  it('refuses an Event invoke over 1 MB, and accepts one of 300 KB', async () => {
    // Prepare
    const big = JSON.stringify({ blob: text(1_100_000) });
    const small = JSON.stringify({ blob: text(300 * 1024) });

    // Act
    const refused = (await lambda()
      .send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: big }))
      .catch((e: unknown) => e)) as Error & { $metadata?: { httpStatusCode?: number } };
    const accepted = await lambda().send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: small }),
    );

    // Assess
    expect(refused.name).toBe('RequestEntityTooLargeException');
    expect(refused.$metadata?.httpStatusCode).toBe(413);
    expect(refused.message).toMatch(
      /byte payload is too large for the Event invocation type \(limit 1048576 bytes\)/,
    );
    expect(accepted.StatusCode).toBe(202);
  });

  it('turns a 7 MB response into the function error Function.ResponseSizeTooLarge', async () => {
    // Act
    const out = await lambda().send(new InvokeCommand({ FunctionName: 'huge', Payload: '{}' }));

    // Assess
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(payloadOf(out)).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: expect.stringMatching(
        /^Response payload size \(\d+ bytes\) exceeded maximum allowed payload size \(6291556 bytes\)\.$/,
      ),
    });
  });

  it('cuts a synchronous invoke off at the REWIND_LOCAL_MAX_TIMEOUT_MS budget with Sandbox.Timedout', async () => {
    // Prepare
    const finishedBefore = slowFinished;

    // Act
    const out = await lambda().send(new InvokeCommand({ FunctionName: 'slow', Payload: '{}' }));

    // Assess
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(payloadOf(out)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 0\.30 seconds$/),
    });
    expect(slowFinished).toBe(finishedBefore); // the answer did not wait for the handler
  });

  it('gives getRemainingTimeInMillis within the capped budget, decreasing', async () => {
    // Act
    const out = await lambda().send(new InvokeCommand({ FunctionName: 'clock', Payload: '{}' }));

    // Assess
    const { first, second } = payloadOf(out) as { first: number; second: number };
    expect(first).toBeLessThanOrEqual(CAP_MS);
    expect(second).toBeLessThan(first);
  });

  it("lets a state machine's Catch on Sandbox.Timedout handle a Task whose function timed out", async () => {
    // Act
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: plane.stateMachineArn('local-limits'),
        input: JSON.stringify({ case: 'timeout' }),
      }),
    );
    const out = await finished(executionArn ?? '');

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(markFailed).toContainEqual(
      expect.objectContaining({
        case: 'timeout',
        error: expect.objectContaining({ Error: 'Sandbox.Timedout' }),
      }),
    );
  });

  it('fails an execution with States.DataLimitExceeded past a Catch on States.ALL, whose target never runs', async () => {
    // Prepare
    const marksBefore = markFailed.length;

    // Act
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: plane.stateMachineArn('local-limits'),
        input: JSON.stringify({ case: 'big' }),
      }),
    );
    const out = await finished(executionArn ?? '');

    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('States.DataLimitExceeded');
    expect(out.cause).toContain("'Big'");
    expect(markFailed.length).toBe(marksBefore);
  });
});
