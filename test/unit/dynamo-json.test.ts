import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalItem, exportLine, type Item, parseExportLine } from '../../functions/core/dynamo-json';
import { item, thirtyEightDigits } from '../support/items';

describe('DynamoDB JSON export lines', () => {
  it('round-trip every item exactly (numbers as strings, binary as bytes)', () => {
    fc.assert(
      fc.property(item, (original) => {
        const line = exportLine(original);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toContain('\n');
        expect(canonicalItem(parseExportLine(line))).toBe(canonicalItem(original));
        expect(parseExportLine(line)).toEqual(original);
      }),
    );
  });

  it('keeps attributes named like Object.prototype members (__proto__, constructor) at any depth', () => {
    // Prepare: found by the round-trip property (fast-check seed 2105615324)
    const tricky = JSON.parse(
      '{"__proto__":{"S":"top"},"constructor":{"N":"1"},"m":{"M":{"__proto__":{"BOOL":true}}}}',
    ) as Item;
    // Act
    const line = exportLine(tricky);
    const back = parseExportLine(line);
    // Assess
    expect(Object.keys(back)).toEqual(['__proto__', 'constructor', 'm']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ S: 'top' });
    expect(line).toContain('"__proto__":{"BOOL":true}');
    expect(canonicalItem(back)).toBe(canonicalItem(tricky));
  });

  it('keeps 38-digit numbers digit for digit', () => {
    fc.assert(
      fc.property(thirtyEightDigits, (digits) => {
        const line = exportLine({ n: { N: digits } });
        expect(line).toContain(`"N":"${digits}"`);
      }),
    );
  });

  it('writes binary as base64 in the export format', () => {
    const line = exportLine({ b: { B: new Uint8Array([0, 255, 16]) }, e: { S: '' } });
    expect(JSON.parse(line)).toEqual({ Item: { b: { B: 'AP8Q' }, e: { S: '' } } });
  });

  it('canonical form ignores set order and attribute order only', () => {
    const a = canonicalItem({ x: { SS: ['b', 'a'] }, y: { N: '1' } });
    const b = canonicalItem({ y: { N: '1' }, x: { SS: ['a', 'b'] } });
    expect(a).toBe(b);
    expect(canonicalItem({ l: { L: [{ S: 'a' }, { S: 'b' }] } })).not.toBe(
      canonicalItem({ l: { L: [{ S: 'b' }, { S: 'a' }] } }),
    );
  });
});
