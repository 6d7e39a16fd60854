import { LOCAL_CREDENTIALS, type LocalConfig } from '../../local/clients';

/**
 * A local.json whose endpoints are closed loopback ports: for tests that need a well-formed
 * config (wiring, file round trips, unreachable targets) and must not reach an emulator.
 */
export function offlineConfig(
  dir: string,
  names: { bucket?: string; catalogTable?: string } = {},
): LocalConfig {
  return {
    endpoints: {
      dynamodb: 'http://127.0.0.1:1',
      kinesis: 'http://127.0.0.1:2',
      s3: 'http://127.0.0.1:3',
      lambda: 'http://127.0.0.1:4',
      stepfunctions: 'http://127.0.0.1:4',
    },
    region: 'us-east-1',
    credentials: { ...LOCAL_CREDENTIALS },
    bucket: names.bucket ?? 'b',
    catalogTable: names.catalogTable ?? 't',
    dir,
  };
}
