import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { MAX_SOCKET_PATH, resolvePaths } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';

describe('resolvePaths', () => {
  it('when nothing is given then files live in ~/.keychain named after uname -n', () => {
    const p = resolvePaths({ home: '/home/bk', uid: 1000 });
    expect(p.keydir).toBe('/home/bk/.keychain');
    expect(p.sh).toBe(`/home/bk/.keychain/${hostname()}-sh`);
    expect(p.socket).toBe(`/home/bk/.keychain/${hostname()}-agent.sock`);
    expect(p.socketNote).toBeUndefined();
  });

  it('when --dir and --absolute are given then DIR itself is the key directory', () => {
    expect(resolvePaths({ home: '/h', uid: 1, dir: '/srv/k' }).keydir).toBe('/srv/k/.keychain');
    expect(resolvePaths({ home: '/h', uid: 1, dir: '/srv/k', absolute: true, host: 'b1' }).csh).toBe('/srv/k/b1-csh');
  });

  it('when --dir contains "/." then DIR itself is the key directory, as keychain\'s */.* rule', () => {
    expect(resolvePaths({ home: '/h', uid: 1, dir: '/home/bk/.cache' }).keydir).toBe('/home/bk/.cache');
    expect(resolvePaths({ home: '/h', uid: 1, dir: '/srv/a/.k/b' }).keydir).toBe('/srv/a/.k/b');
    expect(resolvePaths({ home: '/h', uid: 1, dir: '/srv/cache.d' }).keydir).toBe('/srv/cache.d/.keychain');
  });

  it('when --dir is relative then it is taken from the current directory', () => {
    expect(resolvePaths({ home: '/h', uid: 1, dir: 'kc' }).keydir).toBe(join(process.cwd(), 'kc', '.keychain'));
    expect(resolvePaths({ home: '/h', uid: 1, dir: 'a/.kc' }).keydir).toBe(join(process.cwd(), 'a', '.kc'));
  });

  it('when --dir is empty then it is a usage error', () => {
    expect(() => resolvePaths({ home: '/h', uid: 1, dir: '' })).toThrow(/--dir needs a directory/);
  });

  it('when --absolute comes without --dir then it is a usage error', () => {
    expect(() => resolvePaths({ home: '/h', uid: 1, absolute: true })).toThrow(/--absolute needs --dir/);
  });

  it.each(['a/b', '..', '', 'x\ny'])('when the host is %j then it is refused', (host) => {
    expect(() => resolvePaths({ home: '/h', uid: 1, host })).toThrow(/invalid host name/);
  });

  it('when the stable socket path is too long then a short path under an unpredictable name is used, the same once recorded', () => {
    const keydir = mkdtempSync(join(tmpdir(), `ak-paths-${'d'.repeat(100)}`));
    try {
      const uid = process.getuid?.() ?? 0;
      const a = resolvePaths({ home: '/h', uid, dir: keydir, absolute: true, host: 'h' });
      const b = resolvePaths({ home: '/h', uid, dir: keydir, absolute: true, host: 'h' });
      expect(a.socket).toMatch(new RegExp(`^/tmp/agentkeep-${uid}-[0-9a-f]{16}/[0-9a-f]{16}\\.sock$`));
      expect(a.socket).not.toBe(b.socket);
      expect(a.shortSocketRecord?.fresh).toBe(true);
      expect(Buffer.byteLength(a.socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
      expect(a.socketNote).toMatch(/longer than 103 bytes/);
      writeFileSync(a.shortSocketRecord!.file, `${a.shortSocketRecord!.dir}\n`, { mode: 0o600 });
      const c = resolvePaths({ home: '/h', uid, dir: keydir, absolute: true, host: 'h' });
      const d = resolvePaths({ home: '/h', uid, dir: keydir, absolute: true, host: 'h' });
      expect([c.socket, d.socket]).toEqual([a.socket, a.socket]);
      expect(c.shortSocketRecord?.fresh).toBe(false);
    } finally {
      rmSync(keydir, { recursive: true, force: true });
    }
  });
});

describe('version', () => {
  it('when -V prints the version then it matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
