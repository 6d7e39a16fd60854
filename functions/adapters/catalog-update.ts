import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * One conditional UpdateItem on a catalog table item, described by what changes rather than as
 * expression text. Attribute names may hold any character (unit ids hold `#`, table names `.`):
 * every name and value gets a placeholder of its own.
 */
export interface CatalogUpdate {
  /** The map the written attributes live in, outermost first: `['phases', 'load']`. */
  under?: readonly string[];
  /** Attributes written. */
  set?: Record<string, unknown>;
  /** Attributes written only where absent: a retry keeps the first value. */
  keep?: Record<string, unknown>;
  /** Lists that gain this value; the update fails its condition when the list holds it already. */
  appendOnce?: Record<string, unknown>;
  remove?: readonly string[];
  /**
   * Top-level attributes and the value they must hold (an array: the values allowed). With
   * nothing expected, the item must exist.
   */
  expect?: Record<string, unknown>;
}

/** The expression fields of an UpdateItemCommand input for `update`. */
export function catalogUpdateExpressions(update: CatalogUpdate) {
  const placeholders = new Map<string, string>();
  const values: Record<string, unknown> = {};
  const namePlaceholder = (attribute: string) => {
    const placeholder = placeholders.get(attribute) ?? `#n${placeholders.size}`;
    placeholders.set(attribute, placeholder);
    return placeholder;
  };
  const valuePlaceholder = (value: unknown) => {
    const placeholder = `:v${Object.keys(values).length}`;
    values[placeholder] = value;
    return placeholder;
  };
  const path = (attribute: string) => [...(update.under ?? []), attribute].map(namePlaceholder).join('.');

  const sets: string[] = [];
  const conditions: string[] = [];
  for (const [attribute, expected] of Object.entries(update.expect ?? {})) {
    const allowed = Array.isArray(expected) ? expected : [expected];
    conditions.push(
      allowed.length === 1
        ? `${namePlaceholder(attribute)} = ${valuePlaceholder(allowed[0])}`
        : `${namePlaceholder(attribute)} IN (${allowed.map(valuePlaceholder).join(', ')})`,
    );
  }
  for (const [attribute, value] of Object.entries(update.set ?? {}))
    sets.push(`${path(attribute)} = ${valuePlaceholder(value)}`);
  for (const [attribute, value] of Object.entries(update.keep ?? {})) {
    const target = path(attribute);
    sets.push(`${target} = if_not_exists(${target}, ${valuePlaceholder(value)})`);
  }
  for (const [attribute, value] of Object.entries(update.appendOnce ?? {})) {
    const list = path(attribute);
    const empty = valuePlaceholder([]);
    sets.push(`${list} = list_append(if_not_exists(${list}, ${empty}), ${valuePlaceholder([value])})`);
    conditions.push(`NOT contains(${list}, ${valuePlaceholder(value)})`);
  }
  const removes = (update.remove ?? []).map(path);

  const clauses = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ];
  return {
    UpdateExpression: clauses.filter(Boolean).join(' '),
    ConditionExpression: conditions.length ? conditions.join(' AND ') : 'attribute_exists(pk)',
    ExpressionAttributeNames: Object.fromEntries(
      [...placeholders].map(([name, placeholder]) => [placeholder, name]),
    ),
    ExpressionAttributeValues: marshall(values, {
      removeUndefinedValues: true,
      convertClassInstanceToMap: true,
    }),
  };
}
