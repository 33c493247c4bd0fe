// The `agentkeep` bin.
import { agentkeepMain } from './agentkeep-main.js';
import { runAsProcess } from './run-cli.js';

runAsProcess(agentkeepMain, 'agentkeep');
