// The one reader for files of unknown provenance (keys, .pub files, ssh config): regular files
// only, never waiting on a FIFO or a device, and never more than a bound. A symbolic link is
// followed once, by realpath, and the file it names is then opened with O_NOFOLLOW, so a link
// swapped in between is refused rather than followed.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { AgentkeepError } from './errors.js';

/** Key files and ssh configuration files are small; anything bigger is not what it claims to be. */
export const MAX_SMALL_FILE = 1024 * 1024;

/**
 * Reads `path` whole: throws the open error (ENOENT, EACCES…) as it is, and an AgentkeepError
 * (code KEY_FILE) for a file that is not regular or is larger than `maxBytes`.
 */
export function readBoundedFile(path: string, maxBytes = MAX_SMALL_FILE): Buffer {
  const fd = openSync(realpathSync(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new AgentkeepError('KEY_FILE', `refusing to read ${path}: it is not a regular file (a FIFO, a device or a directory)`,
        path.startsWith('/dev/') ? 'name the real key file instead' : `name the real key file; if ${path} should not be there, move it away`);
    }
    if (st.size > maxBytes) {
      throw new AgentkeepError('KEY_FILE', `refusing to read ${path}: it is ${st.size} bytes, more than the ${maxBytes} a key or ssh config file can be`,
        `check that ${path} is the file you meant`);
    }
    // Read at most one byte past the bound: a file that grows while we read is cut off and refused.
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size + 1, 4096)));
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > maxBytes) {
      throw new AgentkeepError('KEY_FILE', `refusing to read ${path}: it grew past ${maxBytes} bytes while being read`, `check that ${path} is the file you meant`);
    }
    return buf.subarray(0, len);
  } finally {
    closeSync(fd);
  }
}

/** readBoundedFile as UTF-8 text. */
export function readBoundedText(path: string, maxBytes = MAX_SMALL_FILE): string {
  return readBoundedFile(path, maxBytes).toString('utf8');
}
