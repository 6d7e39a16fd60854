import type { CommandGroup } from '../context';
import { backupCommands } from './backup';
import { clusterCommands } from './cluster';
import { localCommands } from './local';
import { restoreCommands } from './restore';
import { scheduleCommands } from './schedule';
import { statusCommands } from './status';
import { sweepCommands } from './sweep';

/** Every command group, in help order. A new group is one file in this folder and one line here. */
export const commandGroups: CommandGroup[] = [
  localCommands,
  clusterCommands,
  backupCommands,
  restoreCommands,
  statusCommands,
  scheduleCommands,
  sweepCommands,
];
