// The `agentrun` bin (run by the sh launcher, dist/agentrun): the process entry over agentrunMain.
import { agentrunMain } from './agentrun-main.js';
import { runAsProcess } from './run-cli.js';

runAsProcess(agentrunMain, 'agentrun');
