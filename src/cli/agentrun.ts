// The `agentrun` bin: a thin entry over agentrunMain.
import { agentrunMain } from './agentrun-main.js';
import { runAsProcess } from './run-cli.js';

runAsProcess(agentrunMain, 'agentrun');
