// The SSH wire format (RFC 4251 §5) shared by the agent protocol, key blobs and openssh-key-v1
// files: big-endian uint32s, and strings as a uint32 length followed by that many bytes.
// The reader never reads past its buffer and never allocates for a length it has not checked.

/** Data that does not hold what the wire format promised; the message says what, where and what was left. */
export class SshWireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'SshWireError';
  }
}

/** Reads bytes, uint32s and strings from a buffer in order, throwing SshWireError at its end. */
export class WireReader {
  #offset: number;

  constructor(private readonly data: Buffer, offset = 0) {
    this.#offset = offset;
  }

  /** Where the next read starts. */
  get offset(): number {
    return this.#offset;
  }

  /** How many bytes are left to read. */
  get remaining(): number {
    return this.data.length - this.#offset;
  }

  /** Whether every byte has been read. */
  atEnd(): boolean {
    return this.remaining <= 0;
  }

  /** One byte (a message type, a boolean). */
  byte(): number {
    this.need(1, 'byte');
    return this.data[this.#offset++]!;
  }

  /** One big-endian uint32. */
  uint32(): number {
    this.need(4, 'uint32');
    const value = this.data.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  /** The next `length` bytes as they are, a view into the buffer. */
  bytes(length: number): Buffer {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`expected a byte count (a non-negative integer), got ${length}`);
    this.need(length, `run of ${length} bytes`);
    return this.data.subarray(this.#offset, (this.#offset += length));
  }

  /** One string's bytes, a view into the buffer: copy it to keep it longer than the buffer. */
  string(): Buffer {
    const start = this.#offset;
    if (this.remaining < 4) {
      throw new SshWireError(`truncated SSH string at offset ${start}: expected a 4-byte length, ${Math.max(this.remaining, 0)} bytes left`, start);
    }
    const length = this.data.readUInt32BE(start);
    if (length > this.remaining - 4) {
      throw new SshWireError(`truncated SSH string at offset ${start}: its length says ${length} bytes, ${this.remaining - 4} left`, start);
    }
    this.#offset += 4;
    return this.data.subarray(this.#offset, (this.#offset += length));
  }

  /** One string as UTF-8 text (a comment); invalid sequences become U+FFFD. */
  stringUtf8(): string {
    return this.string().toString('utf8');
  }

  /** One string as a name of ASCII characters (a key type, a cipher). */
  stringLatin1(): string {
    return this.string().toString('latin1');
  }

  private need(count: number, what: string): void {
    if (this.remaining < count) {
      throw new SshWireError(`truncated ${what} at offset ${this.#offset}: expected ${count} bytes, ${Math.max(this.remaining, 0)} left`, this.#offset);
    }
  }
}

/** The value of `read`, or undefined when the data it reads is malformed; other errors pass through. */
export function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof SshWireError) return undefined;
    throw error;
  }
}

const MAX_UINT32 = 0xffff_ffff;

/** Builds wire data from bytes, uint32s and strings, in order. */
export class WireWriter {
  readonly #parts: Buffer[] = [];

  /** Appends one byte (a message type). */
  byte(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`expected a byte (an integer from 0 to 255), got ${value}`);
    this.#parts.push(Buffer.of(value));
    return this;
  }

  /** Appends one big-endian uint32. */
  uint32(value: number): this {
    this.#parts.push(uint32Bytes(value));
    return this;
  }

  /** Appends one string: its length, then its bytes (text is written as UTF-8). */
  string(data: Buffer | string): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.#parts.push(uint32Bytes(bytes.length), bytes);
    return this;
  }

  /** Everything appended so far. */
  toBuffer(): Buffer {
    return Buffer.concat(this.#parts);
  }

  /** Everything appended so far behind its uint32 length: one agent-protocol message. */
  frame(): Buffer {
    const body = this.toBuffer();
    return Buffer.concat([uint32Bytes(body.length), body]);
  }
}

function uint32Bytes(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
    throw new RangeError(`expected a uint32 (an integer from 0 to ${MAX_UINT32}), got ${value}`);
  }
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}
