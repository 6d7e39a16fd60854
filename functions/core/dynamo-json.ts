/**
 * DynamoDB JSON as DynamoDB's own S3 export writes it: AttributeValues with numbers kept as
 * strings (38 digits survive) and binary as base64. No JavaScript number or document
 * conversion ever touches an item (docs/design.md §4).
 *
 * The SDK hands binary values over as Uint8Array; JSON has no bytes, so they become base64 on
 * the way out and Uint8Array again on the way in.
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: Uint8Array }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: Uint8Array[] }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { NULL: boolean }
  | { BOOL: boolean };

export type Item = Record<string, AttributeValue>;

export type JsonAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { M: Record<string, JsonAttributeValue> }
  | { L: JsonAttributeValue[] }
  | { NULL: boolean }
  | { BOOL: boolean };

export type JsonItem = Record<string, JsonAttributeValue>;

const toBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export function valueToJson(value: AttributeValue): JsonAttributeValue {
  if ('B' in value) return { B: toBase64(value.B) };
  if ('BS' in value) return { BS: value.BS.map(toBase64) };
  if ('M' in value) return { M: itemToJson(value.M) };
  if ('L' in value) return { L: value.L.map(valueToJson) };
  return value;
}

export function valueFromJson(value: JsonAttributeValue): AttributeValue {
  if ('B' in value) return { B: fromBase64(value.B) };
  if ('BS' in value) return { BS: value.BS.map(fromBase64) };
  if ('M' in value) return { M: itemFromJson(value.M) };
  if ('L' in value) return { L: value.L.map(valueFromJson) };
  return value;
}

// Object.fromEntries defines own properties, so an attribute named `__proto__` stays an
// attribute; assigning `out[name]` would set the object's prototype and lose it.
export function itemToJson(item: Item): JsonItem {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, valueToJson(value)]));
}

export function itemFromJson(item: JsonItem): Item {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, valueFromJson(value)]));
}

/**
 * The SDK's AttributeValue union carries `$unknown` and optional members; scan output is
 * always one of the known shapes, so this narrows it structurally.
 */
export function fromSdkItem(item: Record<string, unknown>): Item {
  return item as Item;
}

/** One line of a snapshot chunk: `{"Item":{…}}` (DynamoDB S3 export format). */
export function exportLine(item: Item): string {
  return `${JSON.stringify({ Item: itemToJson(item) })}\n`;
}

export function parseExportLine(line: string): Item {
  const parsed = JSON.parse(line) as { Item?: JsonItem };
  if (!parsed.Item) throw new Error('export line has no "Item"');
  return itemFromJson(parsed.Item);
}

/**
 * A canonical string for an item: attribute names sorted, set members sorted (sets are
 * unordered). Two items are equal exactly when their canonical strings are.
 */
export function canonicalItem(item: Item): string {
  return canonicalJsonItem(itemToJson(item));
}

export function canonicalJsonItem(item: JsonItem): string {
  return canonicalValue({ M: item });
}

function canonicalValue(value: JsonAttributeValue): string {
  if ('M' in value) {
    const entries = Object.entries(value.M).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalValue(v)}`).join(',')}}`;
  }
  if ('L' in value) return `[${value.L.map(canonicalValue).join(',')}]`;
  if ('SS' in value) return `{"SS":${JSON.stringify([...value.SS].sort())}}`;
  if ('NS' in value) return `{"NS":${JSON.stringify([...value.NS].sort())}}`;
  if ('BS' in value) return `{"BS":${JSON.stringify([...value.BS].sort())}}`;
  return JSON.stringify(value);
}
