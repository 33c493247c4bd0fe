// The one SSH wire reader and writer, and the readers built on it (agent answers, key blobs,
// public key lines, authorized_keys lines, openssh-key-v1 files) when the data is malformed.
import { describe, expect, it } from 'vitest';
import { readOrUndefined, SshWireError, WireReader, WireWriter } from '../../src/ssh-wire.js';
import { AgentRequestError, parseIdentities } from '../../src/agent/protocol.js';
import { blobType, blobTypeName, describeBlob } from '../../src/agent/keyblob.js';
import { blobFromOpensshPrivate, blobFromPublicLine, isEncrypted } from '../../src/keys/fingerprint.js';
import { blobOfAuthorizedLine } from '../../src/authorize/append.js';
import { publicKeyText } from '../../src/authorize/line.js';
import { AgentkeepError } from '../../src/errors.js';

const ED25519 = new WireWriter().string('ssh-ed25519').string(Buffer.alloc(32, 7)).toBuffer();

/** The error `read` throws, so that tests can look at its message and offset. */
function thrown(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  throw new Error('expected the read to throw, and it returned');
}

describe('WireWriter and WireReader', () => {
  it('when values are written then they read back in order and the reader ends at the end', () => {
    const data = new WireWriter().byte(12).uint32(0).uint32(0xffffffff).string('ssh-ed25519').string(Buffer.from([0, 1, 2])).string('').string('café').toBuffer();
    const reader = new WireReader(data);
    expect(reader.byte()).toBe(12);
    expect(reader.uint32()).toBe(0);
    expect(reader.uint32()).toBe(0xffffffff);
    expect(reader.stringLatin1()).toBe('ssh-ed25519');
    expect([...reader.string()]).toEqual([0, 1, 2]);
    expect(reader.string().length).toBe(0);
    expect(reader.atEnd()).toBe(false);
    expect(reader.stringUtf8()).toBe('café');
    expect(reader.atEnd()).toBe(true);
    expect(reader.offset).toBe(data.length);
  });

  it('when a string is written then it is its big-endian length then its bytes', () => {
    expect(new WireWriter().string('ab').toBuffer()).toEqual(Buffer.from([0, 0, 0, 2, 0x61, 0x62]));
  });

  it('when a message is framed then the frame is its length then its type and payload', () => {
    expect(new WireWriter().byte(11).frame()).toEqual(Buffer.from([0, 0, 0, 1, 11]));
    expect(new WireWriter().byte(18).string(Buffer.from([9])).frame()).toEqual(Buffer.from([0, 0, 0, 6, 18, 0, 0, 0, 1, 9]));
  });

  it.each([-1, 0x1_0000_0000, 1.5, Number.NaN])('when a uint32 of %d is written then it is refused with what was expected', (value) => {
    expect(() => new WireWriter().uint32(value)).toThrow(/expected a uint32 \(an integer from 0 to 4294967295\), got/);
  });

  it('when a byte out of range is written then it is refused', () => {
    expect(() => new WireWriter().byte(256)).toThrow(/expected a byte .*got 256/);
  });

  it('when a reader starts at an offset then it reads from there', () => {
    const data = Buffer.concat([Buffer.from('magic\0'), new WireWriter().string('none').toBuffer()]);
    expect(new WireReader(data, 6).stringLatin1()).toBe('none');
  });
});

describe('WireReader on malformed data', () => {
  it('when fewer than 4 bytes are left then a uint32 read names the offset and what was left', () => {
    const error = thrown(() => { const r = new WireReader(Buffer.from([0, 0, 0, 1, 0, 0])); r.uint32(); r.uint32(); });
    expect(error).toBeInstanceOf(SshWireError);
    expect((error as SshWireError).message).toBe('truncated uint32 at offset 4: expected 4 bytes, 2 left');
    expect((error as SshWireError).offset).toBe(4);
  });

  it('when the length itself is cut short then the string read says so', () => {
    expect(() => new WireReader(Buffer.from([0, 0, 0])).string()).toThrow('truncated SSH string at offset 0: expected a 4-byte length, 3 bytes left');
  });

  it('when the length runs past the end then the string read names the length and what was left', () => {
    const data = Buffer.concat([new WireWriter().string('ok').toBuffer(), Buffer.from([0, 0, 0, 10, 1, 2, 3])]);
    const reader = new WireReader(data);
    expect(reader.stringLatin1()).toBe('ok');
    expect(() => reader.string()).toThrow('truncated SSH string at offset 6: its length says 10 bytes, 3 left');
    // A failed read does not move the reader.
    expect(reader.offset).toBe(6);
  });

  it('when the length is 0xffffffff then the read fails at once without allocating it', () => {
    const data = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => new WireReader(data).string()).toThrow('truncated SSH string at offset 0: its length says 4294967295 bytes, 2 left');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('when nothing is left then a byte read fails', () => {
    expect(() => new WireReader(Buffer.alloc(0)).byte()).toThrow('truncated byte at offset 0: expected 1 bytes, 0 left');
  });

  it('when a run of bytes is longer than what is left then it fails', () => {
    expect(() => new WireReader(Buffer.from([1, 2])).bytes(3)).toThrow(/truncated run of 3 bytes at offset 0/);
  });

  it('when readOrUndefined meets malformed data then it gives undefined, and any other error passes through', () => {
    expect(readOrUndefined(() => new WireReader(Buffer.from([0, 0, 0, 5])).string())).toBeUndefined();
    expect(() => readOrUndefined(() => { throw new TypeError('not a wire error'); })).toThrow(TypeError);
  });
});

describe('the readers built on it', () => {
  const answer = (...parts: Array<(w: WireWriter) => WireWriter>) => parts.reduce((w, part) => part(w), new WireWriter()).toBuffer();

  it('when an identities answer is whole then every identity is read', () => {
    const body = answer((w) => w.uint32(2), (w) => w.string(ED25519), (w) => w.string('me@host'), (w) => w.string(Buffer.from('junk')), (w) => w.string(''));
    const ids = parseIdentities(body);
    expect(ids.map((id) => id.comment)).toEqual(['me@host', '']);
    expect(ids[0]!.blob.equals(ED25519)).toBe(true);
  });

  it.each([
    ['no count at all', Buffer.from([0, 0])],
    ['a count larger than the identities present', answer((w) => w.uint32(2), (w) => w.string(ED25519), (w) => w.string('c'))],
    ['a blob whose length runs past the answer', Buffer.concat([answer((w) => w.uint32(1)), Buffer.from([0xff, 0xff, 0xff, 0xff, 0])])],
  ])('when an identities answer has %s then it is a protocol error naming the offset', (_what, body) => {
    const error = thrown(() => parseIdentities(body));
    expect(error).toBeInstanceOf(AgentRequestError);
    expect((error as AgentRequestError).kind).toBe('protocol');
    expect((error as AgentRequestError).message).toMatch(/^truncated identities answer: truncated (uint32|SSH string) at offset \d+/);
  });

  it('when a key blob is malformed then its type is unknown and its size 0, as before', () => {
    expect(blobTypeName(ED25519)).toBe('ssh-ed25519');
    expect(blobTypeName(Buffer.from([0, 0]))).toBeUndefined();
    expect(blobType(Buffer.from([0, 0, 0, 99, 0x61]))).toBe('unknown');
    expect(describeBlob(new WireWriter().string('ssh-rsa').string(Buffer.from([1, 0, 1])).toBuffer())).toEqual({ bits: 0, label: 'RSA' });
    expect(describeBlob(new WireWriter().string('ssh-rsa').string(Buffer.from([1, 0, 1])).string(Buffer.from([0, 0x80, 0])).toBuffer())).toEqual({ bits: 16, label: 'RSA' });
  });

  it('when a public key line holds a blob whose type length runs past its end then it is not a key', () => {
    // The old reader clamped the slice, so this blob read as ssh-ed25519.
    const overlong = Buffer.concat([Buffer.from([0, 0, 0, 200]), Buffer.from('ssh-ed25519')]).toString('base64');
    expect(blobFromPublicLine(`ssh-ed25519 ${overlong} me`)).toBeUndefined();
    expect(blobOfAuthorizedLine(`ssh-ed25519 ${overlong} me`)).toBeUndefined();
    expect(blobFromPublicLine(`ssh-ed25519 ${ED25519.toString('base64')} me`)?.equals(ED25519)).toBe(true);
    expect(blobOfAuthorizedLine(`restrict ssh-ed25519 ${ED25519.toString('base64')} me`)?.equals(ED25519)).toBe(true);
  });

  it('when a blob does not start with its type name then the authorized_keys text is a clear error, not a crash', () => {
    expect(publicKeyText(ED25519)).toBe(`ssh-ed25519 ${ED25519.toString('base64')}`);
    for (const bad of [Buffer.alloc(0), Buffer.from([0, 0, 1, 0, 0x61])]) {
      const error = thrown(() => publicKeyText(bad));
      expect(error).toBeInstanceOf(AgentkeepError);
      expect((error as AgentkeepError).code).toBe('KEY_FILE');
      expect((error as AgentkeepError).message).toMatch(/^expected a public key blob that starts with its type name, got one that does not \(truncated SSH string at offset 0/);
    }
  });

  const pem = (data: Buffer) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${data.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');

  it('when an openssh-key-v1 file is whole then its public blob and cipher are read', () => {
    const data = Buffer.concat([magic, new WireWriter().string('none').string('none').string('').uint32(1).string(ED25519).string('private part').toBuffer()]);
    expect(blobFromOpensshPrivate(pem(data))?.equals(ED25519)).toBe(true);
    expect(isEncrypted(pem(data))).toBe(false);
    const encrypted = Buffer.concat([magic, new WireWriter().string('aes256-ctr').toBuffer()]);
    expect(isEncrypted(pem(encrypted))).toBe(true);
  });

  it.each([
    ['ends after the magic', magic],
    ['has a cipher name whose length runs past the end', Buffer.concat([magic, Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('no')])],
    ['holds no keys', Buffer.concat([magic, new WireWriter().string('none').string('none').string('').uint32(0).toBuffer()])],
    ['ends inside its public blob', Buffer.concat([magic, new WireWriter().string('none').string('none').string('').uint32(1).toBuffer(), Buffer.from([0, 0, 1, 0, 1])])],
  ])('when an openssh-key-v1 file %s then no public blob is read from it', (_what, data) => {
    expect(blobFromOpensshPrivate(pem(data))).toBeUndefined();
  });

  it('when the cipher name runs past the end then whether it is encrypted is unknown, not a guess', () => {
    // The old reader clamped the slice, read "no" as the cipher and answered true.
    expect(isEncrypted(pem(Buffer.concat([magic, Buffer.from([0, 0, 0, 4]), Buffer.from('no')])))).toBeUndefined();
  });
});
