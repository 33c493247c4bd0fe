// `--log FILE`: appends start/end lines and the job's output. Opened without following a
// link, created 0600, and refused when someone else owns it, group or others may write to it,
// or it has other hard links. A write that fails (a full disk) never stops the supervisor: the
// log stops there, the job keeps its timeout, lock and status, and the failure is reported.
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgentkeepError, isErrno } from '../errors.js';
import { quoteSh } from '../envfile/render.js';
import { describeMode } from '../envfile/store.js';

/** An open log file. */
export interface RunLog {
  path: string;
  /** Appends a `TIMESTAMP agentrun[PID] text` line, starting a new line if output left one open. */
  line(text: string): void;
  /** Appends job output whole lines at a time, per stream, so stdout and stderr never split a line. */
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  close(): void;
  /** Why writing stopped (e.g. `ENOSPC`), once a write has failed; the job goes on without the log. */
  failure(): string | undefined;
}

/** Opens (or creates) the log for appending after checking who owns it. */
export function openRunLog(file: string, uid: number, cwd = process.cwd(), onFailure: (message: string) => void = () => {}): RunLog {
  const path = resolve(cwd, file);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    if (isErrno(error, 'ELOOP') && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to write the log ${path}: it is a symbolic link`, `point --log at the real file, or remove the link: rm '${path}'`);
    }
    if (isErrno(error)) {
      throw new AgentkeepError('IO', `cannot open the log ${path}: ${error.code}`, error.code === 'ENOENT' ? `create its directory first: mkdir -p '${resolve(path, '..')}'` : undefined);
    }
    throw error;
  }
  const st = fstatSync(fd);
  const refuse = (why: string, fix: string) => {
    closeSync(fd);
    return new AgentkeepError('UNSAFE_PATH', `refusing to write the log ${path}: ${why}`, fix);
  };
  if (!st.isFile()) throw refuse('it is not a regular file', 'point --log at a regular file');
  if (st.uid !== uid) throw refuse(`it is owned by uid ${st.uid}, not by you (uid ${uid})`, 'use a log file of your own');
  if ((st.mode & 0o022) !== 0) throw refuse(`mode ${describeMode(st.mode)} lets ${(st.mode & 0o002) !== 0 ? 'anyone' : 'the group'} write to it`, `run: chmod go-w '${path}'`);
  if (st.nlink > 1) {
    throw refuse(`it has ${st.nlink} hard links, so the job's output would also land in another file`,
      `log to a file of its own: mv '${path}' '${path}.old' (the other names keep their content)`);
  }
  let failed: string | undefined;
  const write = (data: Buffer) => {
    if (failed !== undefined) return;
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    } catch (error) {
      failed = (error as NodeJS.ErrnoException).code ?? String(error);
      onFailure(`cannot write the log ${path}: ${failed}; the job goes on without it`);
    }
  };
  const pending = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  const flush = () => {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (pending[stream].length > 0) write(Buffer.concat([pending[stream], Buffer.from('\n')]));
      pending[stream] = Buffer.alloc(0);
    }
  };
  return {
    path,
    line(text) {
      flush();
      write(Buffer.from(`${new Date().toISOString()} agentrun[${process.pid}] ${text}\n`));
    },
    output(stream, chunk) {
      const data = pending[stream].length > 0 ? Buffer.concat([pending[stream], chunk]) : chunk;
      const end = data.lastIndexOf(0x0a) + 1;
      if (end > 0) write(data.subarray(0, end));
      pending[stream] = Buffer.from(data.subarray(end));
      // A job that never prints a newline must not grow the buffer without bound.
      if (pending[stream].length > 64 * 1024) { write(pending[stream]); pending[stream] = Buffer.alloc(0); }
    },
    close() {
      flush();
      try { closeSync(fd); } catch { /* a failed close changes nothing for the job */ }
    },
    failure: () => failed,
  };
}

/** A command line as it would be typed, for log lines. */
export function showCommand(argv: string[]): string {
  return argv.map(quoteSh).join(' ');
}
