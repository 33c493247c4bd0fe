import { describe, expect, it } from 'vitest';
import { isPrivateDir, pathProblem, type PathRule, type PathStat } from '../../src/path-safety.js';

const ME = 1000;

function stat(kind: 'file' | 'dir' | 'link', mode: number, uid = ME, nlink = 1): PathStat {
  return { uid, mode, nlink, isSymbolicLink: () => kind === 'link', isFile: () => kind === 'file', isDirectory: () => kind === 'dir' };
}

describe('pathProblem', () => {
  it.each<[string, PathStat, PathRule, string | undefined]>([
    ['our own 0600 file', stat('file', 0o100600), {}, undefined],
    ['a symbolic link, before anything else', stat('link', 0o777, 0), { type: 'file' }, 'it is a symbolic link'],
    ['a directory where a file must be, before its owner', stat('dir', 0o40777, 0), { type: 'file' }, 'it is not a regular file'],
    ['a file where a directory must be', stat('file', 0o100600), { type: 'dir' }, 'it is not a directory'],
    ['someone else\'s file', stat('file', 0o100600, 42), {}, `it is owned by uid 42, not by you (uid ${ME})`],
    ['root\'s directory where root may own it', stat('dir', 0o40755, 0), { type: 'dir', rootMayOwn: true }, undefined],
    ['a group-writable directory', stat('dir', 0o40775), {}, 'mode 0775 lets group or others write to it'],
    ['a world-writable file, writers named', stat('file', 0o100606), { nameWriters: true }, 'mode 0606 lets anyone write to it'],
    ['a group-writable file, writers named', stat('file', 0o100620), { nameWriters: true }, 'mode 0620 lets the group write to it'],
    ['/tmp (1777, root) where the sticky bit is enough', stat('dir', 0o41777, 0), { type: 'dir', rootMayOwn: true, stickyIsEnough: true }, undefined],
    ['a 0777 directory without the sticky bit', stat('dir', 0o40777, 0), { type: 'dir', rootMayOwn: true, stickyIsEnough: true }, 'mode 0777 lets group or others write to it'],
    ['a file with two hard links where one is required', stat('file', 0o100600, ME, 2), { singleLink: true }, 'it has 2 hard links'],
    ['a file with two hard links where that does not matter', stat('file', 0o100600, ME, 2), {}, undefined],
  ])('when the path is %s then the reason is %j', (_name, st, rule, why) => {
    expect(pathProblem(st, ME, rule)?.why).toBe(why);
  });
});

describe('isPrivateDir', () => {
  it.each<[string, PathStat | undefined, boolean]>([
    ['our 0700 directory', stat('dir', 0o40700), true],
    ['our 0750 directory', stat('dir', 0o40750), false],
    ['someone else\'s 0700 directory', stat('dir', 0o40700, 0), false],
    ['a link to a directory', stat('link', 0o40700), false],
    ['nothing', undefined, false],
  ])('when the path is %s then it is private: %s', (_name, st, expected) => {
    expect(isPrivateDir(st, ME)).toBe(expected);
  });
});
