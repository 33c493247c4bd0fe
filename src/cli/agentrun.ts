// The `agentrun` bin (placeholder until the agentrun work lands).
process.stderr.write('agentrun: not built yet\n');
process.exitCode = 70;
