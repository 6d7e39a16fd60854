import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../cli/io';
import { main } from '../../cli/main';
import { LOCAL_CREDENTIALS, writeLocalConfig } from '../../local/clients';
import { freePort } from '../../local/emulators';

// A local.json left behind by a local cloud that is gone (a crash, a reboot): every endpoint
// refuses connections. The CLI must say which target it could not reach, not print a socket error.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-unreachable-'));
  const closed = `http://127.0.0.1:${await freePort()}`;
  await writeLocalConfig({
    endpoints: { dynamodb: closed, kinesis: closed, s3: closed, lambda: closed, stepfunctions: closed },
    region: 'us-east-1',
    credentials: { ...LOCAL_CREDENTIALS },
    bucket: 'b',
    catalogTable: 't',
    dir,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an unreachable target', () => {
  it.each([[['restore', 'describe', 'r-1', '--cluster', 'shop']], [['backup', 'list', '--cluster', 'shop']]])(
    '%j names the local cloud folder and how to start it',
    async (argv) => {
      // Prepare
      const capture = memoryIo({ cwd: dir, env: { AWS_MAX_ATTEMPTS: '1' } });
      // Act
      const code = await main(['--local', dir, ...argv, '--json'], capture.io);
      // Assess
      expect(code).toBe(1);
      const doc = JSON.parse(capture.stdout()) as { error: { type: string; message: string } };
      expect(doc.error.type).toBe('TargetUnreachableError');
      expect(doc.error.message).toContain(`cannot reach the local cloud in ${dir}`);
      expect(doc.error.message).toContain('rewind local start');
    },
  );
});
