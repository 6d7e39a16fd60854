import { canonicalItem, type Item } from '../core/dynamo-json';
import { RewindError } from '../core/errors';
import type { TableSchema } from '../core/manifest';
import type { TargetTableInfo, TargetTables } from './restore-tables';
import type { TableWriter, WriterStats } from './table-writer';

interface MemoryTable {
  keySchema: TargetTableInfo['keySchema'];
  /** Describe calls left before the table turns ACTIVE (exercises the wait loop). */
  creatingFor: number;
  items: Map<string, Item>;
  ttlAttribute?: string;
}

/**
 * Target tables in memory, with DynamoDB's semantics for what restore uses: a put replaces the
 * item with the same key, a delete of a missing key is a no-op. `beforeWrite` lets a test fail
 * or stop a write, as a crashed worker would.
 */
export class MemoryTargetTables implements TargetTables {
  readonly tables = new Map<string, MemoryTable>();
  beforeWrite?: (table: string, op: 'put' | 'delete', item: Item) => void;

  constructor(private readonly describesWhileCreating = 0) {}

  /** A table that exists before the restore (a source, or something in the way). */
  seed(table: string, keySchema: TargetTableInfo['keySchema'], items: Item[] = []): void {
    const memory: MemoryTable = { keySchema, creatingFor: 0, items: new Map() };
    for (const item of items) memory.items.set(keyOf(memory, item), item);
    this.tables.set(table, memory);
  }

  /** Canonical items of a table, sorted (for comparisons). */
  canonicalItems(table: string): string[] {
    return [...(this.tables.get(table)?.items.values() ?? [])].map(canonicalItem).sort();
  }

  ttlOf(table: string): string | undefined {
    return this.tables.get(table)?.ttlAttribute;
  }

  async describe(table: string): Promise<TargetTableInfo | undefined> {
    const memory = this.tables.get(table);
    if (!memory) return undefined;
    const creating = memory.creatingFor > 0;
    if (creating) memory.creatingFor--;
    return {
      status: creating ? 'CREATING' : 'ACTIVE',
      ready: !creating,
      keySchema: memory.keySchema.map((k) => ({ ...k })),
    };
  }

  async isEmpty(table: string): Promise<boolean> {
    return this.get(table).items.size === 0;
  }

  async create(table: string, schema: TableSchema): Promise<boolean> {
    if (this.tables.has(table)) return false;
    this.tables.set(table, {
      keySchema: schema.keySchema.map((k) => ({ ...k })),
      creatingFor: this.describesWhileCreating,
      items: new Map(),
    });
    return true;
  }

  async enableTtl(table: string, attributeName: string): Promise<void> {
    this.get(table).ttlAttribute = attributeName;
  }

  async count(table: string): Promise<number> {
    return this.get(table).items.size;
  }

  writer(table: string): TableWriter {
    const memory = this.get(table);
    const stats: WriterStats = { puts: 0, deletes: 0, requests: 0, retries: 0 };
    return {
      put: async (item) => {
        this.beforeWrite?.(table, 'put', item);
        stats.puts++;
        memory.items.set(keyOf(memory, item), item);
      },
      delete: async (key) => {
        this.beforeWrite?.(table, 'delete', key);
        stats.deletes++;
        memory.items.delete(keyOf(memory, key));
      },
      flush: async () => ({ ...stats }),
    };
  }

  private get(table: string): MemoryTable {
    const memory = this.tables.get(table);
    if (!memory) throw new RewindError(`Requested resource not found: table ${table}`);
    if (memory.creatingFor > 0) throw new RewindError(`table ${table} is being created`);
    return memory;
  }
}

function keyOf(table: MemoryTable, item: Item): string {
  const key: Item = {};
  for (const { AttributeName } of table.keySchema) {
    const value = item[AttributeName];
    if (value === undefined) throw new RewindError(`item lacks key attribute ${AttributeName}`);
    key[AttributeName] = value;
  }
  return canonicalItem(key);
}
