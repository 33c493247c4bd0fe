import { afterEach, describe, expect, it } from 'vitest';
import { openSignalScope } from '../../src/signal-scope.js';

describe('openSignalScope', () => {
  const open: Array<() => void> = [];
  afterEach(() => { for (const close of open.splice(0)) close(); });

  it('when scopes nest then only the innermost hears a signal, and the outer one hears it again once the inner closes', () => {
    const heard: string[] = [];
    const before = process.listenerCount('SIGHUP');
    open.push(openSignalScope((s) => heard.push(`outer ${s}`)));
    const closeInner = openSignalScope((s) => heard.push(`inner ${s}`));
    process.emit('SIGHUP', 'SIGHUP');
    closeInner();
    closeInner(); // closing twice changes nothing
    process.emit('SIGHUP', 'SIGHUP');
    expect(heard).toEqual(['inner SIGHUP', 'outer SIGHUP']);
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
  });

  it('when the last scope closes then no listener of ours is left', () => {
    const before = process.listenerCount('SIGTERM');
    const close = openSignalScope(() => {});
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    close();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
