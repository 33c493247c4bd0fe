// `--log FILE`: appends start/end lines and the job's output. Opened without following a
// link, created 0600, and refused when someone else owns it, group or others may write to it,
// or it has other hard links. A write that fails (a full disk) never stops the supervisor: the
// log stops there, the job keeps its timeout, lock and status, and the failure is reported.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { AgentkeepError, errnoText, isErrno } from '../errors.js';
import { quoteSh } from '../shells/quote.js';
import { pathProblem } from '../path-safety.js';

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

/** Why agentrun refuses an existing log file (a link, not a regular file, someone else's, writable by group or others, other hard links), or undefined. */
export function logFileProblem(path: string, st: Stats, uid: number): AgentkeepError | undefined {
  const refuse = (why: string, fix: string) => new AgentkeepError('UNSAFE_PATH', `refusing to write the log ${path}: ${why}`, fix);
  // The type before the owner, and hard links too: a log is appended to, so its content must not land elsewhere.
  const found = pathProblem(st, uid, { type: 'file', singleLink: true, nameWriters: true });
  if (!found) return undefined;
  switch (found.problem) {
    case 'symlink': return refuse(found.why, `point --log at the real file, or remove the link: rm '${path}'`);
    case 'not-file': return refuse(found.why, 'point --log at a regular file');
    case 'owner': return refuse(found.why, 'use a log file of your own');
    case 'writable': return refuse(found.why, `run: chmod go-w '${path}'`);
    default: /* hard-links */ return refuse(`${found.why}, so the job's output would also land in another file`,
      `log to a file of its own: mv '${path}' '${path}.old' (the other names keep their content)`);
  }
}

/** Opens (or creates) the log for appending after checking who owns it. */
export function openRunLog(file: string, uid: number, cwd = process.cwd(), onFailure: (message: string) => void = () => {}): RunLog {
  const path = resolve(cwd, file);
  const fd = openLogFile(path);
  const refused = logFileProblem(path, fstatSync(fd), uid);
  if (refused) {
    closeSync(fd);
    throw refused;
  }
  return lineBufferedLog(path, fd, failSoftWriter(path, fd, onFailure));
}

/** Opens `path` for appending without following a link or blocking on a FIFO, creating it 0600; a link or an open failure is an AgentkeepError. */
function openLogFile(path: string): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    if (isErrno(error, 'ELOOP') && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to write the log ${path}: it is a symbolic link`, `point --log at the real file, or remove the link: rm '${path}'`);
    }
    if (isErrno(error)) {
      throw new AgentkeepError('IO', `cannot open the log ${path}: ${error.code}`, error.code === 'ENOENT' ? `create its directory first: mkdir -p '${resolve(path, '..')}'` : undefined);
    }
    throw error;
  }
}

/** Writes to the log file, stopping at its first failure instead of throwing. */
interface FailSoftWriter {
  write(data: Buffer): void;
  failure(): string | undefined;
}

/** Writes whole buffers to `fd`; the first failure goes to `onFailure` and stops writing, never throwing. */
function failSoftWriter(path: string, fd: number, onFailure: (message: string) => void): FailSoftWriter {
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
  return { write, failure: () => failed };
}

/** The RunLog over an open `fd`: agentrun lines, and job output held back per stream until a line is whole. */
function lineBufferedLog(path: string, fd: number, { write, failure }: FailSoftWriter): RunLog {
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
    failure,
  };
}

/** A command line as it would be typed, for log lines. */
export function showCommand(argv: string[]): string {
  return argv.map(quoteSh).join(' ');
}

/** One agentrun line of a log: a start, an end, or a run that was not started. */
export interface LogEvent {
  /** The ISO timestamp the line starts with. */
  at: string;
  pid: number;
  kind: 'start' | 'end' | 'not started';
  /** The text after `start: ` / `end: ` / `not started: `. */
  text: string;
  /** The exit status an end or not-started line records. */
  status: number | null;
  /** How long the job ran, from an end line. */
  seconds: number | null;
}

const EVENT = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) agentrun\[(\d+)\] (start|end|not started): (.*)$/;

/** Parses one line written by `RunLog.line` (the formats agentrunMain writes); undefined for job output. */
export function parseLogEvent(line: string): LogEvent | undefined {
  const m = EVENT.exec(line);
  if (!m) return undefined;
  const text = m[4]!;
  const status = /^exit status (\d+)/.exec(text)?.[1] ?? /\(exit status (\d+)\)(?: after [\d.]+ s)?$/.exec(text)?.[1];
  const seconds = m[3] === 'end' ? / after ([\d.]+) s$/.exec(text)?.[1] : undefined;
  return {
    at: m[1]!, pid: Number(m[2]), kind: m[3] as LogEvent['kind'], text,
    status: status === undefined ? null : Number(status), seconds: seconds === undefined ? null : Number(seconds),
  };
}

/** The last start line and the last end (or not-started) line of a log's text. */
export function lastEvents(text: string): { start: LogEvent | null; end: LogEvent | null } {
  let start: LogEvent | null = null;
  let end: LogEvent | null = null;
  for (const line of text.split('\n')) {
    const event = parseLogEvent(line);
    if (event?.kind === 'start') start = event;
    else if (event) end = event;
  }
  return { start, end };
}

/**
 * The last `maxBytes` of a log that `uid` may have written (a regular file of theirs, opened
 * without following a link or blocking on a FIFO), or why it cannot be read.
 */
export function readLogTail(path: string, uid: number, maxBytes = 256 * 1024): { text: string } | { problem: AgentkeepError | 'missing' } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { problem: 'missing' };
    const st = lstatSync(path, { throwIfNoEntry: false });
    const refused = st && logFileProblem(path, st, uid);
    if (refused) return { problem: refused };
    return { problem: new AgentkeepError('IO', `cannot read the log ${path}: ${isErrno(error) ? errnoText(error) : String(error)}`) };
  }
  try {
    const st = fstatSync(fd);
    const refused = logFileProblem(path, st, uid);
    if (refused) return { problem: refused };
    const length = Math.min(st.size, maxBytes);
    const buffer = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, st.size - length + got);
      if (n === 0) break;
      got += n;
    }
    return { text: buffer.subarray(0, got).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}
