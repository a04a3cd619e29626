// Minimal DER (X.690) encoder and reader: only what an X.509 v3 certificate needs.

/** One tag-length-value; content is the concatenation of `parts`. Single-byte tags only (enough for X.509). */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
/** SET with a single member (one attribute per RDN), so DER's SET OF sort order never matters. */
export const set = (item: Buffer): Buffer => tlv(0x31, item);
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
export const nul = (): Buffer => tlv(0x05);
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), b);
/** [n] EXPLICIT: a constructed wrapper around complete TLVs. */
export const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);
/** [n] IMPLICIT on a primitive type: the universal tag is replaced, content kept. */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

/** Non-negative INTEGER, minimal encoding (a 0x00 is prepended when the top bit is set, so it stays positive). */
export function int(v: number | bigint | Buffer): Buffer {
  let b: Buffer;
  if (Buffer.isBuffer(v)) b = v;
  else {
    if (BigInt(v) < 0n) throw new RangeError('DER: negative INTEGER not supported');
    const hex = BigInt(v).toString(16);
    b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1]! & 0x80)) i++;
  b = b.subarray(i);
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits));
}

/** A decoded TLV's position inside its buffer. */
export interface DerNode {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export function readNode(buf: Buffer, at = 0): DerNode {
  let p = at + 2;
  let len = buf[at + 1];
  if (buf[at] === undefined || len === undefined) throw new Error('DER: truncated');
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + (buf[p++] ?? NaN);
  }
  const end = p + len;
  if (!(end <= buf.length)) throw new Error('DER: truncated');
  return { tag: buf[at]!, start: at, contentStart: p, end };
}

export function children(buf: Buffer, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let at = node.contentStart; at < node.end; ) {
    const child = readNode(buf, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

export const contentOf = (buf: Buffer, n: DerNode): Buffer => buf.subarray(n.contentStart, n.end);
export const bytesOf = (buf: Buffer, n: DerNode): Buffer => buf.subarray(n.start, n.end);

/** Reads a UTCTime (0x17) or GeneralizedTime (0x18) in the Z form DER requires. */
export function readTime(buf: Buffer, n: DerNode): Date {
  let s = contentOf(buf, n).toString('latin1');
  if (n.tag === 0x17) s = (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m || (n.tag !== 0x17 && n.tag !== 0x18)) throw new Error(`DER: unsupported time ${s}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
