import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { catalogUpdateExpressions } from '../../functions/adapters/catalog-update';

describe('catalogUpdateExpressions', () => {
  it('gives names of any characters placeholders of their own, one per name', () => {
    // Act
    const update = catalogUpdateExpressions({
      under: ['loadUnits'],
      set: { 'orders.v2#0': { items: 3 } },
      expect: { status: 'RUNNING' },
    });

    // Assess
    expect(update.UpdateExpression).toBe('SET #n1.#n2 = :v1');
    expect(update.ConditionExpression).toBe('#n0 = :v0');
    expect(update.ExpressionAttributeNames).toEqual({
      '#n0': 'status',
      '#n1': 'loadUnits',
      '#n2': 'orders.v2#0',
    });
    expect(unmarshall(update.ExpressionAttributeValues)).toEqual({ ':v0': 'RUNNING', ':v1': { items: 3 } });
  });

  it('writes kept values only where absent, appends once, removes, and expects one of several values', () => {
    // Act
    const update = catalogUpdateExpressions({
      set: { status: 'RUNNING' },
      keep: { startedAt: 5 },
      appendOnce: { createdTables: 't1' },
      remove: ['failure'],
      expect: { status: ['COMPLETED', 'FAILED'] },
    });

    // Assess
    expect(update.UpdateExpression).toBe(
      'SET #n0 = :v2, #n1 = if_not_exists(#n1, :v3), #n2 = list_append(if_not_exists(#n2, :v4), :v5) REMOVE #n3',
    );
    expect(update.ConditionExpression).toBe('#n0 IN (:v0, :v1) AND NOT contains(#n2, :v6)');
    expect(unmarshall(update.ExpressionAttributeValues)).toEqual({
      ':v0': 'COMPLETED',
      ':v1': 'FAILED',
      ':v2': 'RUNNING',
      ':v3': 5,
      ':v4': [],
      ':v5': ['t1'],
      ':v6': 't1',
    });
  });

  it('with nothing expected, requires the item to exist', () => {
    // Act
    const update = catalogUpdateExpressions({ set: { executionArn: 'arn' } });

    // Assess
    expect(update.ConditionExpression).toBe('attribute_exists(pk)');
  });
});
