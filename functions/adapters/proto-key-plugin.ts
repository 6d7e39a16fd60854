/**
 * A middleware plug-in for every DynamoDB and DynamoDB Streams client Rewind creates: attribute
 * names that are `__proto__` survive the SDK's response deserialization (docs/aws-fidelity.md).
 *
 * DynamoDB allows any UTF-8 string as an attribute name, `__proto__` included. The SDK's JSON
 * deserializer (@smithy/core 3.41.1, `JsonShapeDeserializer2._read`, map branch, used by
 * @aws-sdk/client-dynamodb 3.1169.0 and @aws-sdk/client-dynamodb-streams 3.1141.0) guards the
 * key with `writeKey(map)`, which defines an own `__proto__` property holding `undefined`, and only
 * then reads `map[k]` to deserialize it: the attribute stays as an own key whose value is
 * `undefined`. In the DynamoDB client that hits top-level attribute maps (Items, Item,
 * LastEvaluatedKey, Attributes, UnprocessedItems, …: nested M values go through the DynamoDB codec,
 * which keeps them); in the Streams client, which has no DynamoDB codec, every map at every depth
 * (Keys, NewImage, OldImage and the M values inside them).
 *
 * The plug-in adds two middlewares around the SDK's `deserializerMiddleware`:
 * - inside it (next to the HTTP handler), `rewindRawBodyCapture` reads the response body into
 *   bytes (the SDK would collect it the same way; it accepts a Uint8Array body as it is) and,
 *   only when those bytes contain `__proto__` (or a `\u` escape, which could spell it), keeps the
 *   parsed raw JSON for this response;
 * - outside it, `rewindProtoKeyRepair` then rebuilds the attribute-map members the command's
 *   output (or error) carries from that raw JSON, own-property safe (Object.fromEntries; B and BS
 *   as Uint8Array, as the SDK gives them). Members not listed in `OUTPUTS` keep what the SDK made.
 *
 * On the normal path the cost is one search of the body's bytes. Requests need nothing: the
 * SDK's serializer (`JsonShapeSerializer2.writeMap`, the DynamoDB codec's `writeAttributeValue`)
 * walks own keys with `for…in` + `hasOwn` and writes `__proto__` like any other name
 * (test/unit/proto-key-plugin.test.ts checks the request bodies, so an SDK change shows up).
 */

type Json = unknown;
type Shape = 'item' | { list: Shape } | { map: Shape } | { struct: Record<string, Shape> };

const item = 'item' as const;
const list = (of: Shape): Shape => ({ list: of });
const map = (of: Shape): Shape => ({ map: of });
const struct = (fields: Record<string, Shape>): Shape => ({ struct: fields });

const scanLike = struct({ Items: list(item), LastEvaluatedKey: item });
const writeOutput = struct({ Attributes: item, ItemCollectionMetrics: struct({ ItemCollectionKey: item }) });
const collectionMetrics = map(list(struct({ ItemCollectionKey: item })));

/** Where attribute maps sit in each command's output (DynamoDB and DynamoDB Streams APIs). */
export const OUTPUTS: Readonly<Record<string, Shape>> = {
  ScanCommand: scanLike,
  QueryCommand: scanLike,
  ExecuteStatementCommand: scanLike,
  GetItemCommand: struct({ Item: item }),
  PutItemCommand: writeOutput,
  UpdateItemCommand: writeOutput,
  DeleteItemCommand: writeOutput,
  BatchGetItemCommand: struct({
    Responses: map(list(item)),
    UnprocessedKeys: map(struct({ Keys: list(item) })),
  }),
  BatchWriteItemCommand: struct({
    UnprocessedItems: map(
      list(struct({ PutRequest: struct({ Item: item }), DeleteRequest: struct({ Key: item }) })),
    ),
    ItemCollectionMetrics: collectionMetrics,
  }),
  TransactGetItemsCommand: struct({ Responses: list(struct({ Item: item })) }),
  TransactWriteItemsCommand: struct({ ItemCollectionMetrics: collectionMetrics }),
  ExecuteTransactionCommand: struct({ Responses: list(struct({ Item: item })) }),
  BatchExecuteStatementCommand: struct({
    Responses: list(struct({ Item: item, Error: struct({ Item: item }) })),
  }),
  GetRecordsCommand: struct({
    Records: list(struct({ dynamodb: struct({ Keys: item, NewImage: item, OldImage: item }) })),
  }),
};

/** Errors that carry items (ReturnValuesOnConditionCheckFailure). */
const ERRORS: Readonly<Record<string, Shape>> = {
  ConditionalCheckFailedException: struct({ Item: item }),
  TransactionCanceledException: struct({ CancellationReasons: list(struct({ Item: item })) }),
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const ownValue = (o: unknown, k: string): unknown =>
  isObject(o) && Object.hasOwn(o, k) ? o[k] : Array.isArray(o) ? o[Number(k)] : undefined;

const fromBase64 = (v: unknown): unknown =>
  typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : v;

/** One AttributeValue from its wire JSON, the way the SDK gives it (B and BS as bytes). */
export function decodeAttributeValue(raw: Json): unknown {
  if (!isObject(raw)) return raw;
  return Object.fromEntries(
    Object.entries(raw).map(([type, v]) => {
      switch (type) {
        case 'B':
          return [type, fromBase64(v)];
        case 'BS':
          return [type, Array.isArray(v) ? v.map(fromBase64) : v];
        case 'L':
          return [type, Array.isArray(v) ? v.map(decodeAttributeValue) : v];
        case 'M':
          return [type, decodeAttributeMap(v)];
        default:
          return [type, v];
      }
    }),
  );
}

/** An attribute map (item, key, M value) from its wire JSON; every name an own property. */
export function decodeAttributeMap(raw: Json): unknown {
  if (!isObject(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).map(([name, v]) => [name, decodeAttributeValue(v)]));
}

/**
 * `raw` decoded by `shape`. Structures are patched in place on `base` (the SDK's object, which
 * keeps its timestamps and other members) when there is one; where the SDK lost the object
 * (a map entry named `__proto__`), it is rebuilt from `raw` alone.
 */
function decode(shape: Shape, raw: Json, base: unknown): unknown {
  if (shape === 'item') return decodeAttributeMap(raw);
  if ('list' in shape) {
    if (!Array.isArray(raw)) return base;
    return raw.map((r, i) => decode(shape.list, r, ownValue(base, String(i))));
  }
  if (!isObject(raw)) return base;
  if ('map' in shape) {
    const of = shape.map;
    return Object.fromEntries(Object.entries(raw).map(([k, r]) => [k, decode(of, r, ownValue(base, k))]));
  }
  const target: Record<string, unknown> = isObject(base) ? base : Object.fromEntries(Object.entries(raw));
  for (const [field, fieldShape] of Object.entries(shape.struct)) {
    if (!Object.hasOwn(raw, field)) continue;
    target[field] = decode(fieldShape, raw[field], ownValue(target, field));
  }
  return target;
}

/** Rebuild the attribute maps of one command's output (or error) from the response's raw JSON. */
export function repairOutput(commandName: string, output: unknown, raw: Json): void {
  const shape = OUTPUTS[commandName];
  if (shape && isObject(output)) decode(shape, raw, output);
}

export function repairError(error: unknown, raw: Json): void {
  if (!isObject(error) || !isObject(raw)) return;
  const type = typeof raw.__type === 'string' ? (raw.__type.split('#').pop() ?? '') : '';
  const shape = ERRORS[typeof error.name === 'string' ? error.name : type] ?? ERRORS[type];
  if (shape) decode(shape, raw, error);
}

const PROTO = Buffer.from('__proto__');
const ESCAPE = Buffer.from('\\u');

/** Whether a body needs the repair: it names `__proto__`, or has an escape that could spell it. */
export const mentionsProto = (body: Uint8Array): boolean => {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return bytes.includes(PROTO) || bytes.includes(ESCAPE);
};

async function bodyBytes(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  return undefined;
}

/** Raw JSON of the responses that need the repair, by response object. */
const rawBodies = new WeakMap<object, Json>();

interface Handled {
  response?: unknown;
  output?: unknown;
}
type Next = (args: unknown) => Promise<Handled>;
interface Stack {
  addRelativeTo(
    middleware: (next: Next, context: { commandName?: string }) => (args: unknown) => Promise<Handled>,
    options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean },
  ): void;
}

export const protoKeyPlugin = {
  applyToStack(stack: Stack): void {
    stack.addRelativeTo(
      (next) => async (args) => {
        const result = await next(args);
        const response = result.response as { body?: unknown } | undefined;
        if (!isObject(response)) return result;
        const bytes = await bodyBytes(response.body);
        if (bytes === undefined) return result;
        response.body = bytes;
        if (mentionsProto(bytes)) {
          try {
            rawBodies.set(response, JSON.parse(Buffer.from(bytes).toString('utf8')));
          } catch {
            // Not JSON: the SDK's deserializer reports it.
          }
        }
        return result;
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'rewindRawBodyCapture',
        override: true,
      },
    );
    stack.addRelativeTo(
      (next, context) => async (args) => {
        let result: Handled;
        try {
          result = await next(args);
        } catch (error) {
          const response = isObject(error) ? error.$response : undefined;
          if (isObject(response) && rawBodies.has(response)) repairError(error, rawBodies.get(response));
          throw error;
        }
        const response = result.response;
        if (isObject(response) && rawBodies.has(response))
          repairOutput(context.commandName ?? '', result.output, rawBodies.get(response));
        return result;
      },
      {
        relation: 'before',
        toMiddleware: 'deserializerMiddleware',
        name: 'rewindProtoKeyRepair',
        override: true,
      },
    );
  },
};

/** Apply the plug-in to a DynamoDB or DynamoDB Streams client; returns the client. */
export function withProtoKeyRepair<C extends { middlewareStack: { use(plugin: never): void } }>(
  client: C,
): C {
  client.middlewareStack.use(protoKeyPlugin as never);
  return client;
}
