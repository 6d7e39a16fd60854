import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { catalogContract } from '../contract/catalog-contract';

catalogContract('in-memory', () => new MemoryCatalog());
