#!/usr/bin/env node
// `npx rewind …`: run the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { runAsProcess } = await import('../cli/main.ts');
await runAsProcess();
