import { describe, expect, it } from 'vitest';
import {
  type InvokeOptions,
  InvokeRequestTooLargeError,
  invokeLocal,
  LAMBDA_SYNC_RESPONSE_LIMIT_BYTES,
  type LocalFunctionRegistry,
  LocalStateMachineRunner,
  LocalTimeoutSettingError,
  localFunction,
  MAX_TIMEOUT_ENV,
  maxTimeoutFromEnv,
  PAYLOAD_LIMIT_BYTES,
  stateOutputsChecked,
} from '../../local/sfn-runner';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const never = () => new Promise<never>(() => {});
const text = (bytes: number) => 'x'.repeat(bytes);

const invoke = (name: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: name, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...extra,
});

/** Run `definition` to its end with `registry`; the outcome plus which functions were called. */
async function execute(
  definition: Record<string, unknown>,
  registry: LocalFunctionRegistry,
  input: unknown = {},
) {
  const runner = new LocalStateMachineRunner('', definition, registry, { retryIntervalMs: 0 });
  return runner.run(input, { Execution: { Id: 'e' } }).outcome;
}

describe('Lambda limits of a local invocation', () => {
  it('refuses a synchronous request over 6 MB and an Event request over 1 MB', async () => {
    // Prepare
    const fn = localFunction(async () => 'ran');

    // Act
    const sync = await invokeLocal(fn, { blob: text(7 * 1024 * 1024) }).catch((e: unknown) => e);
    const event = await invokeLocal(fn, { blob: text(1_100_000) }, 'f', { invocationType: 'Event' }).catch(
      (e: unknown) => e,
    );
    const smallEvent = await invokeLocal(fn, { blob: text(300_000) }, 'f', { invocationType: 'Event' });

    // Assess
    expect(sync).toBeInstanceOf(InvokeRequestTooLargeError);
    expect(sync).toMatchObject({
      code: 'RequestEntityTooLargeException',
      status: 413,
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    });
    expect((event as Error).message).toMatch(
      /^\d+ byte payload is too large for the Event invocation type \(limit 1048576 bytes\)$/,
    );
    expect(smallEvent).toBe('ran');
  });

  it('turns a synchronous response over 6 MB into Function.ResponseSizeTooLarge', async () => {
    // Prepare
    const fn = localFunction(async () => text(7 * 1024 * 1024));

    // Act
    const err = (await invokeLocal(fn, {}).catch((e: unknown) => e)) as Error;

    // Assess
    expect(err.name).toBe('Function.ResponseSizeTooLarge');
    expect(err.message).toMatch(
      new RegExp(
        `^Response payload size \\(\\d+ bytes\\) exceeded maximum allowed payload size \\(${LAMBDA_SYNC_RESPONSE_LIMIT_BYTES} bytes\\)\\.$`,
      ),
    );
  });

  it('cuts an invocation off at its capped budget: Sandbox.Timedout, signal aborted, late result ignored', async () => {
    // Prepare
    let aborted = false;
    let finishedLate = false;
    const fn = localFunction(async (_payload, context) => {
      context.signal.addEventListener('abort', () => {
        aborted = true;
      });
      await sleep(600);
      finishedLate = true;
      return 'late';
    }, 900_000);
    const options: InvokeOptions = { maxTimeoutMs: 200 };

    // Act
    const err = (await invokeLocal(fn, {}, 'slow', options).catch((e: unknown) => e)) as Error;

    // Assess
    expect(err.name).toBe('Sandbox.Timedout');
    expect(err.message).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 0\.20 seconds$/);
    expect(aborted).toBe(true);
    expect(finishedLate).toBe(false);
  });

  it('gives getRemainingTimeInMillis that decreases and stays within the capped budget', async () => {
    // Prepare
    const seen: number[] = [];
    const fn = localFunction(async (_payload, context) => {
      seen.push(context.getRemainingTimeInMillis());
      await sleep(30);
      seen.push(context.getRemainingTimeInMillis());
      return null;
    }, 60_000);

    // Act
    await invokeLocal(fn, {}, 'f', { maxTimeoutMs: 5_000 });

    // Assess
    const [first = Number.NaN, second = Number.NaN] = seen;
    expect(first).toBeLessThanOrEqual(5_000);
    expect(second).toBeLessThan(first);
    expect(second).toBeGreaterThan(0);
  });

  it('reads the cap from REWIND_LOCAL_MAX_TIMEOUT_MS and refuses a value that is not a positive integer', () => {
    // Act
    const set = maxTimeoutFromEnv({ [MAX_TIMEOUT_ENV]: '300' });
    const unset = maxTimeoutFromEnv({});
    const bad = (() => {
      try {
        return maxTimeoutFromEnv({ [MAX_TIMEOUT_ENV]: '0.5s' });
      } catch (err) {
        return err;
      }
    })();

    // Assess
    expect(set).toBe(300);
    expect(unset).toBeUndefined();
    expect(bad).toBeInstanceOf(LocalTimeoutSettingError);
  });
});

describe('Step Functions limits in the local runner', () => {
  it('fails with States.DataLimitExceeded when a Task result is over 256 KiB, past a Catch on States.ALL', async () => {
    // Prepare
    const calls: string[] = [];
    const registry: LocalFunctionRegistry = {
      big: localFunction(async () => text(PAYLOAD_LIMIT_BYTES + 1)),
      'mark-failed': localFunction(async () => {
        calls.push('mark-failed');
        return null;
      }),
    };
    const definition = {
      StartAt: 'Big',
      States: {
        Big: invoke('big', {
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' }],
          End: true,
        }),
        MarkFailed: invoke('mark-failed', { End: true }),
      },
    };

    // Act
    const outcome = await execute(definition, registry);

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(outcome.status !== 'SUCCEEDED' && outcome.cause).toContain("'Big'");
    expect(calls).toEqual([]);
  });

  it.runIf(stateOutputsChecked)(
    'fails with States.DataLimitExceeded when a state output grows past 256 KiB, even inside a caught Map',
    async () => {
      // Prepare
      const calls: string[] = [];
      const registry: LocalFunctionRegistry = {
        half: localFunction(async () => text(PAYLOAD_LIMIT_BYTES / 2 + 10)),
        'mark-failed': localFunction(async () => {
          calls.push('mark-failed');
          return null;
        }),
      };
      const definition = {
        StartAt: 'Fan',
        States: {
          Fan: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Grow',
              States: {
                // Each result fits; with ResultPath the state's output holds two of them.
                Grow: invoke('half', { OutputPath: '$', ResultPath: '$.a', Next: 'Again' }),
                Again: invoke('half', { OutputPath: '$', ResultPath: '$.b', End: true }),
              },
            },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' }],
            End: true,
          },
          MarkFailed: invoke('mark-failed', { End: true }),
        },
      };

      // Act
      const outcome = await execute(definition, registry, { items: [{ n: 1 }] });

      // Assess
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
      expect(outcome.status !== 'SUCCEEDED' && outcome.cause).toContain("'Again'");
      expect(calls).toEqual([]);
    },
  );

  it.runIf(stateOutputsChecked)(
    'fails with States.DataLimitExceeded on a Map output aggregated past 256 KiB',
    async () => {
      // Prepare
      const registry: LocalFunctionRegistry = { part: localFunction(async () => text(100_000)) };
      const definition = {
        StartAt: 'Fan',
        States: {
          Fan: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'Part', States: { Part: invoke('part', { End: true }) } },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }],
            Next: 'Done',
          },
          Done: { Type: 'Succeed' },
        },
      };

      // Act
      const outcome = await execute(definition, registry, { items: [1, 2, 3] });

      // Assess
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
      expect(outcome.status !== 'SUCCEEDED' && outcome.cause).toContain("'Fan'");
    },
  );

  it('a Task whose function runs past its budget fails with Sandbox.Timedout, which its Catch sees', async () => {
    // Prepare
    const registry: LocalFunctionRegistry = {
      slow: localFunction(never, 300),
      recover: localFunction(async (payload) => ({ recovered: payload })),
    };
    const definition = {
      StartAt: 'Slow',
      States: {
        Slow: invoke('slow', {
          Catch: [{ ErrorEquals: ['Sandbox.Timedout'], ResultPath: '$.error', Next: 'Recover' }],
          End: true,
        }),
        Recover: invoke('recover', { End: true }),
      },
    };

    // Act
    const outcome = await execute(definition, registry, { job: 1 });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const output = (
      outcome as { output: { recovered: { job: number; error: { Error: string; Cause: string } } } }
    ).output;
    expect(output.recovered.job).toBe(1);
    expect(output.recovered.error.Error).toBe('Sandbox.Timedout');
    expect(JSON.parse(output.recovered.error.Cause)).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 0\.30 seconds$/),
    });
  });

  it("a Task's own TimeoutSeconds still fails it with States.Timeout", async () => {
    // Prepare
    const registry: LocalFunctionRegistry = { slow: localFunction(never, 900_000) };
    const definition = {
      StartAt: 'Slow',
      States: {
        Slow: invoke('slow', {
          TimeoutSeconds: 1,
          Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    };

    // Act
    const outcome = await execute(definition, registry);

    // Assess
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { error: { Error: 'States.Timeout' } } });
  });
});
