import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoItem } from '../../demo/workload';
import { type AttributeValue, exportLine, type Item } from '../../functions/core/dynamo-json';
import { exportLines, fastExportLine, fastExportLineOrUndefined } from '../../functions/core/export-line';
import { item } from '../support/items';

/**
 * fastExportLine must write byte for byte what exportLine writes (the snapshot format is a
 * public contract, and restore checks SHA-256 of the bytes), and take its fast path for every
 * shape DynamoDB has; whatever else it is given, it must answer as exportLine does.
 */

/** What a call gives: its output, or the error it throws. */
function outcome(fn: () => string): { line: string } | { error: string } {
  try {
    return { line: fn() };
  } catch (error) {
    return { error: String(error) };
  }
}

// Any UTF-16 text: lone surrogates, control characters, quotes, backslashes, U+2028, astral.
const anyText = fc.string({ unit: 'binary' });
const anyBytes = fc.uint8Array({ maxLength: 40 });

/** Like support/items' `item`, but names and strings from all of UTF-16 and binaries of any length. */
const wideValue: fc.Arbitrary<AttributeValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText.map((S) => ({ S })),
    fc.string().map((N) => ({ N })),
    anyBytes.map((B) => ({ B })),
    fc.array(anyText, { minLength: 1, maxLength: 4 }).map((SS) => ({ SS })),
    fc.array(fc.string(), { minLength: 1, maxLength: 4 }).map((NS) => ({ NS })),
    fc.array(anyBytes, { minLength: 1, maxLength: 3 }).map((BS) => ({ BS })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.boolean().map((NULL) => ({ NULL })),
    tie('map'),
    tie('list'),
  ),
  map: fc
    .dictionary(anyText, tie('value'), { maxKeys: 4 })
    .map((M) => ({ M: M as Record<string, AttributeValue> })),
  list: fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L: L as AttributeValue[] })),
})).value as fc.Arbitrary<AttributeValue>;
const wideItem = fc.dictionary(anyText, wideValue, { minKeys: 1, maxKeys: 8 }) as fc.Arbitrary<Item>;

describe('fastExportLine', () => {
  it('writes exactly what exportLine writes, on the fast path, for every DynamoDB item', () => {
    fc.assert(
      fc.property(fc.oneof(item, wideItem), (original) => {
        // Act
        const fast = fastExportLineOrUndefined(original);
        // Assess
        expect(fast).toBe(exportLine(original));
      }),
      { numRuns: 2_000 },
    );
  });

  it('encodes a page of lines to the same UTF-8 bytes as the original, however the buffer grows', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(item, wideItem), { maxLength: 30 }), fc.nat(4096), (items, hint) => {
        // Act
        const bytes = exportLines(items, hint);
        // Assess
        expect(bytes.equals(Buffer.from(items.map(exportLine).join('')))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('answers like exportLine, output or error, for any input at all', () => {
    // Prepare: arbitrary JS values where attribute values go: type members holding anything
    // (numbers, nulls, typed arrays, objects), several or unknown members, at any depth.
    const junk = fc.anything({ withTypedArray: true, withNullPrototype: true });
    const junkValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        wideValue,
        junk,
        fc.dictionary(
          fc.constantFrom('S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL', '$unknown'),
          junk,
          {
            minKeys: 1,
            maxKeys: 2,
          },
        ),
        fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L })),
        fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }).map((M) => ({ M })),
        fc.tuple(tie('value'), junk).map(([M, S]) => ({ M, S })),
      ),
    })).value;
    const junkItem = fc.oneof(fc.dictionary(fc.string(), junkValue, { maxKeys: 4 }), junk);
    fc.assert(
      fc.property(junkItem, (junk) => {
        // Act / Assess
        expect(outcome(() => fastExportLine(junk as Item))).toEqual(outcome(() => exportLine(junk as Item)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('matches on fixed edge cases: precision, binary, sets, nesting, empties, names', () => {
    // Prepare
    const backing = new Uint8Array([9, 9, 0, 255, 16, 9]);
    const cases: Item[] = [
      demoItem('orders', 7),
      demoItem('blobs', 12_345),
      {
        n: { N: '-12345678901234567890123456789012345678' },
        small: { N: '0.000000000000000000000000000000000000001' },
        e: { S: '' },
        b: { B: backing.subarray(2, 5) }, // a view with an offset: only its bytes count
        empty: { B: new Uint8Array(0) },
        bs: { BS: [new Uint8Array([0]), backing.subarray(1, 4)] },
        ss: { SS: ['"quoted"', 'back\\slash', 'tab\tnew\nline\u0000', '\u2028\u2029', '😀', '\ud800'] },
        ns: { NS: ['1', '-0.5', '12345678901234567890123456789012345678'] },
        nul: { NULL: true },
        f: { BOOL: false },
        t: { BOOL: true },
        m: { M: { '': { S: 'empty name' }, nested: { M: { deep: { L: [{ M: {} }, { L: [] }] } } } } },
        l: { L: [{ S: 'a' }, { N: '1' }, { NULL: true }, { BS: [new Uint8Array([1, 2, 3])] }] },
        'name "quoted"\n': { S: 'x' },
        '10': { S: 'integer-like names come first' },
        '2': { S: 'and in numeric order' },
      },
      // Names that are Object.prototype members, at the top and nested (own properties, as
      // JSON.parse and the SDK make them).
      JSON.parse(
        '{"__proto__":{"S":"top"},"constructor":{"N":"1"},"toJSON":{"S":"t"},' +
          '"m":{"M":{"__proto__":{"BOOL":true},"hasOwnProperty":{"L":[]}}}}',
      ) as Item,
      Object.assign(Object.create(null) as Item, {
        a: Object.assign(Object.create(null), { S: 'no prototype' }),
      }),
    ];
    for (const original of cases) {
      // Act
      const fast = fastExportLineOrUndefined(original);
      // Assess
      expect(fast).toBe(exportLine(original));
    }
  });

  it('falls back to exportLine, whose output or error it then gives, off the common shapes', () => {
    // Prepare: shapes the SDK never returns but exportLine handles in its own way.
    const holey: AttributeValue[] = [{ S: 'a' }];
    holey[2] = { S: 'c' };
    const cases: unknown[] = [
      { x: { S: 'a', N: '1' } }, // two members: exportLine writes both
      { x: { B: new Uint8Array([1]), S: 'dropped' } }, // B first: exportLine drops the rest
      { x: { $unknown: ['Z', 1] } },
      { x: { L: holey } }, // a hole becomes null
      { x: { S: 1 } },
      { x: { M: 5 } },
      { x: { B: new DataView(new ArrayBuffer(2)) } },
      { x: { B: 'not bytes' } },
      { x: null },
      { x: 'S' },
    ];
    for (const odd of cases) {
      // Act
      const fast = fastExportLineOrUndefined(odd as Item);
      // Assess
      expect(fast).toBeUndefined();
      expect(outcome(() => fastExportLine(odd as Item))).toEqual(outcome(() => exportLine(odd as Item)));
    }
  });

  it('falls back while Object.prototype carries a member exportLine would see', () => {
    // Prepare
    const plain: Item = { s: { S: 'x' } };
    Object.defineProperty(Object.prototype, 'B', { value: new Uint8Array([1]), configurable: true });
    try {
      // Act / Assess
      expect(fastExportLineOrUndefined(plain)).toBeUndefined();
      expect(fastExportLine(plain)).toBe(exportLine(plain));
    } finally {
      delete (Object.prototype as { B?: unknown }).B;
    }
    expect(fastExportLineOrUndefined(plain)).toBe(exportLine(plain));
  });
});
