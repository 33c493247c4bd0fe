// The one seam where errors become words and statuses: every error has a code, a status and a
// hint; an agent's refusal is worth another try (75); anything unexpected is a bug (70) whose
// stack appears only under --debug.
import { describe, expect, it } from 'vitest';
import { reportError, type Io } from '../../src/cli/run-cli.js';
import { AgentRequestError } from '../../src/agent/protocol.js';
import { AgentkeepError } from '../../src/errors.js';

function capture(): { io: Io; err: () => string } {
  let text = '';
  return { io: { argv: [], env: {}, stdout: () => {}, stderr: (t) => { text += t; }, stderrIsTTY: false }, err: () => text };
}

describe('reportError', () => {
  it('when the agent refuses a request then the status is 75 with a hint about a locked or busy agent', () => {
    const { io, err } = capture();
    expect(reportError('agentkeep', new AgentRequestError('failure', 'the agent refused the request (SSH_AGENT_FAILURE)'), io)).toBe(75);
    expect(err()).toBe('agentkeep: the ssh-agent did not do what was asked: the agent refused the request (SSH_AGENT_FAILURE)\n'
      + 'hint: if the agent is locked (ssh-add -x), unlock it with ssh-add -X; if it is busy (a --confirm dialog open), answer it and try again\n');
  });

  it('when an unexpected exception arrives then the status is 70, one line asks for a report, and no stack is printed', () => {
    const { io, err } = capture();
    expect(reportError('agentrun', new TypeError('cannot read properties of undefined'), io)).toBe(70);
    expect(err()).toMatch(/^agentrun: internal error: cannot read properties of undefined\nhint: this is a bug in agentkeep; please report it/);
    expect(err()).not.toMatch(/\n\s+at /);
  });

  it('when --debug is on then the unexpected exception\'s stack follows', () => {
    const { io, err } = capture();
    reportError('agentkeep', new RangeError('boom'), io, true);
    expect(err()).toMatch(/RangeError: boom\n\s+at /);
  });

  it('when a file error arrives then it keeps its code and status 1; an AgentkeepError keeps its own', () => {
    const { io, err } = capture();
    expect(reportError('agentkeep', Object.assign(new Error('EROFS: read-only file system, open \'/x\''), { code: 'EROFS', path: '/x' }), io)).toBe(1);
    expect(err()).toContain('agentkeep: EROFS: read-only file system');
    expect(reportError('agentkeep', new AgentkeepError('NO_AGENT', 'no agent', 'log in'), capture().io)).toBe(75);
  });
});
