import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import { FUNCTION_OUTPUTS } from '../../cli/target';
import { restoreResumeSpec } from '../../functions/restore-resume/spec';
import { startRestoreSpec } from '../../functions/start-restore/spec';
import { synthApp } from './synth';

// The CLI finds a deployed function through the stack output named in FUNCTION_OUTPUTS: an
// output missing from a stack is a CLI command that cannot work against AWS.
const app = synthApp(
  parseConfig(
    {
      stackName: 'RewindOutputs',
      region: 'eu-west-1',
      replicaRegion: 'eu-central-1',
      clusters: [{ name: 'shop', tables: ['orders'] }],
    },
    'test config',
  ),
);
afterAll(app.cleanup);
const outputsOf = (template: ReturnType<typeof app.replica>) => Object.keys(template.toJSON().Outputs ?? {});

describe('stack outputs the CLI reads', () => {
  it('the main stack names every function the CLI invokes, plus the catalog and bucket', () => {
    // Act
    const outputs = outputsOf(app.main);
    // Assess
    expect(outputs).toEqual(
      expect.arrayContaining([...Object.values(FUNCTION_OUTPUTS), 'CatalogTableName', 'BucketName']),
    );
  });

  it('the replica stack names the restore functions, so restore runs from the second region', () => {
    // Act
    const outputs = outputsOf(app.replica());
    // Assess
    const restoreOutputs = [startRestoreSpec.name, restoreResumeSpec.name].map((n) => FUNCTION_OUTPUTS[n]);
    expect(restoreOutputs).toEqual(['StartRestoreFunctionName', 'ResumeRestoreFunctionName']);
    expect(outputs).toEqual(expect.arrayContaining([...restoreOutputs, 'CatalogTableName', 'BucketName']));
  });
});
