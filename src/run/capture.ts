// `--quiet`: keeps the job's output (stdout and stderr, in arrival order) to replay it only if
// the job fails, as cronic does. Bounded, so a chatty job cannot exhaust memory.
/** Which of the job's output streams a chunk came from. */
export type Stream = 'stdout' | 'stderr';

/** Most output kept for replay; the rest is counted and reported as dropped. */
export const CAPTURE_LIMIT = 16 * 1024 * 1024;

/** Captured job output. */
export class Capture {
  private readonly chunks: Array<[Stream, Buffer]> = [];
  private size = 0;
  private dropped = 0;

  /** Keeps a chunk, or counts it as dropped once the limit is reached. */
  add(stream: Stream, chunk: Buffer): void {
    if (this.size + chunk.length > CAPTURE_LIMIT) {
      this.dropped += chunk.length;
      return;
    }
    this.chunks.push([stream, chunk]);
    this.size += chunk.length;
  }

  /** Writes everything kept, in order, and a note about anything dropped. */
  replay(write: (stream: Stream, chunk: Buffer) => void): void {
    for (const [stream, chunk] of this.chunks) write(stream, chunk);
    if (this.dropped > 0) write('stderr', Buffer.from(`agentrun: ${this.dropped} further bytes of output were not kept (limit ${CAPTURE_LIMIT} bytes)\n`));
  }
}
