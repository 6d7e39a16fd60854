import { MemoryRestoreCatalog } from '../../functions/adapters/memory-restore-catalog';
import { restoreCatalogContract } from '../contract/restore-catalog-contract';

restoreCatalogContract('in-memory', () => new MemoryRestoreCatalog());
