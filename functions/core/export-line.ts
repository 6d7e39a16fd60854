import { exportLine, type Item } from './dynamo-json';

/**
 * The snapshot writer's hot path: export lines written as strings directly, without the
 * intermediate JSON object `exportLine` builds (`itemToJson`: Object.entries, Object.fromEntries
 * and a new object per value) before `JSON.stringify`. Its output is byte for byte that of
 * `exportLine`; test/unit/export-line-fast.test.ts checks it against the original.
 *
 * The fast path takes the shapes the SDK's Scan output and `JSON.parse` give: plain objects, each
 * attribute value with exactly one own member, one of the ten DynamoDB types with a value of its
 * type. For those, `exportLine` writes `{"<type>":<JSON of the value>}` with B/BS as base64,
 * M attributes in `Object.keys` order (the order Object.entries / Object.fromEntries /
 * JSON.stringify keep) and names and strings quoted by `JSON.stringify`; so does this, quoting
 * plain strings itself (JSON.stringify leaves them as they are) and reusing the quoted form of
 * names it has seen. Anything else (an unknown or extra member, a B that is not a Uint8Array, a
 * hole in a list, a non-object, a patched Object.prototype) sends the whole line to `exportLine`,
 * so such inputs get the original's output or the original's error.
 */
export function fastExportLine(item: Item): string {
  return fastExportLineOrUndefined(item) ?? exportLine(item);
}

/** The fast path alone: `undefined` where `fastExportLine` falls back (tests check SDK items never do). */
export function fastExportLineOrUndefined(item: Item): string | undefined {
  // exportLine's `'B' in value` checks and JSON.stringify's toJSON would see inherited members.
  if (prototypePatched()) return undefined;
  try {
    return `{"Item":${attributes(item)}}\n`;
  } catch {
    // offShape, or an error exportLine would meet too: it gives its own output or error.
    return undefined;
  }
}

/**
 * The export lines of `items` as UTF-8, each line encoded straight into one growing buffer:
 * the same bytes as `Buffer.from(items.map(exportLine).join(''))` without a page-sized string.
 * Concatenating a page's lines into one string and encoding that (twice: `Buffer.byteLength` to
 * count, the gzip write to convert) cost more CPU than making the lines.
 */
export function exportLines(items: readonly Item[], sizeHint = 64 * 1024): Buffer {
  let buffer = Buffer.allocUnsafe(Math.max(1024, sizeHint));
  let used = 0;
  for (const item of items) {
    const line = fastExportLine(item);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; write() would silently truncate.
    const worst = line.length * 3;
    if (buffer.length - used < worst) {
      const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, used + worst));
      buffer.copy(grown, 0, 0, used);
      buffer = grown;
    }
    used += buffer.write(line, used, 'utf8');
  }
  return buffer.subarray(0, used);
}

/** Thrown inside the fast path when an input is off its shapes; caught above. */
const offShape = new Error('export line: off the fast path');

const objectPrototype = Object.prototype;

function prototypePatched(): boolean {
  return (
    'B' in objectPrototype ||
    'BS' in objectPrototype ||
    'M' in objectPrototype ||
    'L' in objectPrototype ||
    'toJSON' in objectPrototype ||
    'toJSON' in Array.prototype
  );
}

function attributes(map: unknown): string {
  if (typeof map !== 'object' || map === null) throw offShape;
  const record = map as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const name of Object.keys(record)) {
    out += `${first ? '' : ','}${quotedName(name)}:${value(record[name])}`;
    first = false;
  }
  return `${out}}`;
}

function value(v: unknown): string {
  if (typeof v !== 'object' || v === null) throw offShape;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== objectPrototype && proto !== null) throw offShape;
  const av = v as Record<string, unknown>;
  const members = Object.keys(av);
  if (members.length !== 1) throw offShape;
  switch (members[0]) {
    case 'S':
      if (typeof av.S === 'string') return `{"S":${quoted(av.S)}}`;
      break;
    case 'N':
      if (typeof av.N === 'string') return `{"N":${quoted(av.N)}}`;
      break;
    case 'BOOL':
      if (typeof av.BOOL === 'boolean') return av.BOOL ? '{"BOOL":true}' : '{"BOOL":false}';
      break;
    case 'NULL':
      if (typeof av.NULL === 'boolean') return av.NULL ? '{"NULL":true}' : '{"NULL":false}';
      break;
    case 'B':
      return `{"B":"${base64(av.B)}"}`;
    case 'M':
      return `{"M":${attributes(av.M)}}`;
    case 'L':
      return `{"L":${list(av.L)}}`;
    case 'SS':
      return `{"SS":${stringSet(av.SS)}}`;
    case 'NS':
      return `{"NS":${stringSet(av.NS)}}`;
    case 'BS':
      return `{"BS":${binarySet(av.BS)}}`;
  }
  throw offShape;
}

function list(values: unknown): string {
  if (!Array.isArray(values)) throw offShape;
  let out = '[';
  // A hole reads as undefined, which value() refuses: exportLine writes it as null.
  for (let i = 0; i < values.length; i++) out += `${i === 0 ? '' : ','}${value(values[i])}`;
  return `${out}]`;
}

function stringSet(members: unknown): string {
  if (!Array.isArray(members)) throw offShape;
  let out = '[';
  for (let i = 0; i < members.length; i++) {
    const member: unknown = members[i];
    if (typeof member !== 'string') throw offShape;
    out += `${i === 0 ? '' : ','}${quoted(member)}`;
  }
  return `${out}]`;
}

function binarySet(members: unknown): string {
  if (!Array.isArray(members)) throw offShape;
  let out = '[';
  for (let i = 0; i < members.length; i++) out += `${i === 0 ? '' : ','}"${base64(members[i])}"`;
  return `${out}]`;
}

/** Base64 has no character JSON escapes, so it goes between quotes as it is. */
function base64(bytes: unknown): string {
  if (!(bytes instanceof Uint8Array)) throw offShape;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * What JSON.stringify escapes in a string: `"`, `\`, U+0000–U+001F and (lone) surrogates. A
 * string without any is written between quotes as it is; surrogate pairs, rare in attribute
 * data, go through JSON.stringify with the rest.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what JSON escapes
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

function quoted(text: string): string {
  return needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Attribute names repeat item after item: keep their quoted form (bounded; cleared when full). */
const quotedNames = new Map<string, string>();
const QUOTED_NAMES_MAX = 4096;

function quotedName(name: string): string {
  let q = quotedNames.get(name);
  if (q === undefined) {
    q = quoted(name);
    if (quotedNames.size >= QUOTED_NAMES_MAX) quotedNames.clear();
    quotedNames.set(name, q);
  }
  return q;
}
