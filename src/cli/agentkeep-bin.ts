// The `agentkeep` bin: the process entry (title, exit status) over agentkeepMain.
import { agentkeepMain } from './agentkeep-main.js';
import { runAsProcess } from './run-cli.js';

runAsProcess(agentkeepMain, 'agentkeep');
