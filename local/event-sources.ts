import { join } from 'node:path';
import { RewindError } from '../functions/core/errors';
import { type ChangeBridge, startChangeBridge } from './change-bridge';
import type { LocalConfig } from './clients';
import { type KinesisPoller, startKinesisPoller } from './kinesis-poller';
import { positionsFile } from './positions-file';
import { invokeLocal, type LocalFunctionRegistry, lookupFunction } from './sfn-runner';

/**
 * The local cloud's event sources (docs/design.md §7): DynamoDB Streams → change bridge → Kinesis →
 * event-source poller → ship-log, as `rewind local start` and the integration setup run them.
 */
export interface LocalEventSources {
  bridge: ChangeBridge;
  poller: KinesisPoller;
  /** Resolves once the bridge and then the poller have passed every change written before. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** The bridge's positions, in the local cloud's folder. */
export const BRIDGE_POSITIONS_FILE = 'bridge-positions.json';

/**
 * What `rewind local start` runs besides the control plane: the change bridge and the Kinesis
 * event-source poller, which invokes ship-log (and record-gap on failure) from `registry`.
 */
export function startLocalEventSources(cfg: LocalConfig, registry: LocalFunctionRegistry): LocalEventSources {
  // Kinesis Data Streams for DynamoDB keeps its position durably; so does the local bridge.
  const positions = positionsFile(join(cfg.dir, BRIDGE_POSITIONS_FILE));
  const bridge = startChangeBridge({ cfg, positions });
  const poller = startKinesisPoller({
    cfg,
    hasFunction: (name) => lookupFunction(registry, name) !== undefined,
    invoke: (name, event) => {
      const fn = lookupFunction(registry, name);
      if (!fn) throw new RewindError(`function ${name} is not registered`);
      return invokeLocal(fn, event, name);
    },
  });
  return {
    bridge,
    poller,
    flush: async () => {
      await bridge.flush();
      await poller.flush();
    },
    stop: async () => {
      await bridge.stop();
      await poller.stop();
      await positions.flushed();
    },
  };
}
