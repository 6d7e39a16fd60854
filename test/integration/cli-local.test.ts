import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient, localConfigPath } from '../../local/clients';

const bin = resolve(import.meta.dirname, '../../bin/rewind.js');
const dirs: string[] = [];

async function rewind(...argv: string[]) {
  return promisify(execFile)(process.execPath, [bin, ...argv], { timeout: 240_000 }).then(
    (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
}

/** Processes whose process group is `pgid` (a detached cloud leads its own group). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp …; comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return members;
}

afterAll(async () => {
  for (const dir of dirs) {
    await rewind('local', 'stop', '--dir', dir);
    await rm(dir, { recursive: true, force: true });
  }
});

describe('rewind local start --detach / local stop', () => {
  it('starts a cloud that answers, then stops it with no process left behind', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'rewind-cli-local-'));
    dirs.push(dir);

    // Act
    const started = await rewind('local', 'start', '--detach', '--dir', dir, '--json');
    const doc = JSON.parse(started.stdout);
    const ddb = dynamoClient(doc);
    const tables = await ddb.send(new ListTablesCommand({}));
    ddb.destroy();
    const pid = Number(doc.pid);
    const whileRunning = groupMembers(pid);
    const stopped = await rewind('local', 'stop', '--dir', dir, '--json');
    const again = await rewind('local', 'stop', '--dir', dir, '--json');

    // Assess
    expect(started.code, started.stderr).toBe(0);
    expect(doc).toMatchObject({
      endpoints: {
        dynamodb: expect.stringMatching(/^http:/),
        kinesis: expect.stringMatching(/^http:/),
        s3: expect.stringMatching(/^http:/),
      },
      region: expect.any(String),
      credentials: { accessKeyId: expect.any(String), secretAccessKey: expect.any(String) },
      bucket: expect.any(String),
    });
    expect(tables.TableNames).toContain(doc.catalogTable);
    expect(whileRunning.length).toBeGreaterThan(1);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ state: 'terminated', pid });
    expect(groupMembers(pid)).toEqual([]);
    expect(() => readFileSync(localConfigPath(dir))).toThrow();
    expect(JSON.parse(again.stdout)).toMatchObject({ state: 'not-running' });
  });
});
