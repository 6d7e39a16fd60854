import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import type { LocalConfig } from '../../local/clients';
import { rewindCloudOptions, startLocalCloud } from '../../local/cloud';

declare module 'vitest' {
  export interface ProvidedContext {
    localConfig: LocalConfig;
  }
}

/**
 * One local cloud (emulators + control plane with Rewind's functions and state machines, once
 * local/functions.ts exists) for the whole integration project; tests read its config with
 * `inject('localConfig')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-it-'));
  let cloud: Awaited<ReturnType<typeof startLocalCloud>>;
  try {
    cloud = await startLocalCloud(await rewindCloudOptions(dir));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  project.provide('localConfig', cloud.config);
  return async () => {
    try {
      await cloud.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
