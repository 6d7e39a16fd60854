import fc from 'fast-check';
import type { AttributeValue, Item } from '../../functions/core/dynamo-json';

/**
 * Items that exercise every DynamoDB type the way DynamoDB accepts them: 38-digit numbers,
 * binary, string/number/binary sets (non-empty, unique), nested maps and lists, empty strings.
 */
export const thirtyEightDigits = fc
  .tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[1-9][0-9]{37}$/))
  .map(([sign, digits]) => `${sign}${digits}`);

const number = fc.oneof(
  thirtyEightDigits,
  fc.integer().map(String),
  fc.stringMatching(/^[1-9][0-9]{0,18}\.[0-9]{0,18}[1-9]$/),
);
const bytes = fc.uint8Array({ minLength: 1, maxLength: 32 });

const leaf: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string().map((S) => ({ S })),
  number.map((N) => ({ N })),
  bytes.map((B) => ({ B })),
  fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }).map((SS) => ({ SS })),
  fc.uniqueArray(fc.integer().map(String), { minLength: 1, maxLength: 4 }).map((NS) => ({ NS })),
  fc
    .uniqueArray(bytes, { minLength: 1, maxLength: 3, selector: (b) => Buffer.from(b).toString('hex') })
    .map((BS) => ({ BS })),
  fc.boolean().map((BOOL) => ({ BOOL })),
  fc.constant({ NULL: true as const }),
);

export const attributeValue: fc.Arbitrary<AttributeValue> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('map'), tie('list')),
  map: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie('value'), { maxKeys: 4 }).map((M) => ({
    M: M as Record<string, AttributeValue>,
  })),
  list: fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L: L as AttributeValue[] })),
})).value as fc.Arbitrary<AttributeValue>;

export const item: fc.Arbitrary<Item> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 10 }),
  attributeValue,
  {
    minKeys: 1,
    maxKeys: 8,
  },
);
