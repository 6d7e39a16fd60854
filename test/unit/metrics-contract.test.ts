import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics, publishClusterMetric } from '../../functions/adapters/lambda-runtime';
import {
  clusterMetric,
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  serviceMetric,
} from '../../functions/core/metric-names';

/** The EMF documents Powertools printed while `act` ran. */
function emfPrinted(act: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    }),
    vi.spyOn(console, 'log').mockImplementation((...args) => {
      lines.push(args.join(' '));
    }),
  ];
  act();
  for (const spy of spies) spy.mockRestore();
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

// cdk/constructs/monitoring.ts alarms on these exact namespace / name / dimension sets: a metric
// published with another dimension set is a different CloudWatch metric, and the alarm would
// watch nothing (and, missing data being "breaching" for the RPO alarm, page forever).
describe('published metrics carry the dimensions the alarms watch', () => {
  it('a cluster metric is published under Rewind with dimensions service + cluster', () => {
    // Act
    const [emf] = emfPrinted(() =>
      publishClusterMetric('shop', clusterMetric.backupCompleted, MetricUnit.Count, 1),
    );
    // Assess
    expect(emf).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [['service', 'cluster']],
            Metrics: [{ Name: 'BackupCompleted', Unit: 'Count' }],
          },
        ],
      },
      service: METRIC_SERVICE,
      cluster: 'shop',
      BackupCompleted: 1,
    });
  });

  it('a service metric is published under Rewind with the service dimension only', () => {
    // Act
    const [emf] = emfPrinted(() => {
      metrics.addMetric(serviceMetric.gapsRecorded, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    });
    // Assess
    expect(emf).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['service']] }] },
      service: METRIC_SERVICE,
      GapsRecorded: 1,
    });
  });
});
