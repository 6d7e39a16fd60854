import { MemoryLogCatalog } from '../../functions/adapters/memory-log-catalog';
import { logCatalogContract } from '../contract/log-catalog-contract';

logCatalogContract('in-memory', () => new MemoryLogCatalog());
