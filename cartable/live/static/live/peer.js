// Messages that go straight from one browser to the other, over WebRTC data channels: the
// pupil steers the class camera and asks for stills of the board; the class answers with
// the view, the named views, refusals and the stills. The server never sees any of it.
// Specified in docs/protocol.md, "Peer-to-peer messages".
//
// Every message received is checked here before a page sees it: its size, its type
// (a whitelist per side and channel), every field (type and range, no unknown field), and
// a token bucket per kind of message. A still is sent in binary chunks of at most 16 KiB
// with a SHA-256 of the whole, and reassembled and checked on arrival.

export const PEER_VERSION = 1;
export const VIEW_CHANNEL = 'view';
export const STILLS_CHANNEL = 'stills';
export const CHANNELS = [VIEW_CHANNEL, STILLS_CHANNEL];
export const MAX_TEXT_BYTES = 4096;
export const CHUNK_BYTES = 16 * 1024;
export const CHUNK_HEADER_BYTES = 8;
export const CHUNK_PAYLOAD_BYTES = CHUNK_BYTES - CHUNK_HEADER_BYTES;
export const MAX_STILL_BYTES = 16 * 1024 * 1024;
export const MAX_STILL_SIDE = 8192;
export const MAX_VIEWS = 12;
export const MAX_VIEW_NAME = 40;
export const STILL_TIMEOUT_MS = 60_000;
export const STILL_MIME = ['image/jpeg', 'image/png', 'image/webp'];
export const REFUSALS = ['locked', 'paused', 'rate_limited', 'unknown_view', 'busy', 'unavailable'];
const MAX_SEQ = 2 ** 31 - 1;

const isInt = (min, max) => (v) => Number.isInteger(v) && v >= min && v <= max;
const isNum = (min, max) => (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isBool = (v) => typeof v === 'boolean';
const oneOf = (values) => (v) => values.includes(v);
const nullable = (check) => (v) => v === null || check(v);
export const isViewId = (v) => typeof v === 'string' && /^[a-z0-9_-]{1,32}$/.test(v);
export const isViewName = (v) =>
  typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_VIEW_NAME && !/[\u0000-\u001f]/.test(v);
const isSeq = isInt(0, MAX_SEQ);
const isUnit = isNum(0, 1);
const isZoom = isNum(1, 16);
const isViewList = (v) =>
  Array.isArray(v) &&
  v.length <= MAX_VIEWS &&
  v.every(
    (item) =>
      item !== null &&
      typeof item === 'object' &&
      !Array.isArray(item) &&
      Object.keys(item).length === 2 &&
      isViewId(item.id) &&
      isViewName(item.name),
  );

/** Every message type, its channel, who may send it, and its fields (all required). */
export const SCHEMAS = {
  // pupil → class, on the 'view' channel
  view_set: { channel: VIEW_CHANNEL, from: 'pupil', fields: { seq: isSeq, x: isUnit, y: isUnit, zoom: isZoom } },
  view_preset: { channel: VIEW_CHANNEL, from: 'pupil', fields: { seq: isSeq, view: isViewId } },
  still_request: { channel: VIEW_CHANNEL, from: 'pupil', fields: { seq: isSeq } },
  // class → pupil, on the 'view' channel
  view_state: {
    channel: VIEW_CHANNEL,
    from: 'class',
    fields: {
      version: isInt(1, 1000),
      seq: isSeq,
      x: isUnit,
      y: isUnit,
      zoom: isZoom,
      max_zoom: isNum(1, 16),
      aspect: isNum(0.2, 5),
      view: nullable(isViewId),
      locked: isBool,
      keep_stills: isBool,
      optical: isBool,
      by: oneOf(['class', 'pupil']),
    },
  },
  views: { channel: VIEW_CHANNEL, from: 'class', fields: { views: isViewList } },
  refused: {
    channel: VIEW_CHANNEL,
    from: 'class',
    fields: { seq: isSeq, about: oneOf(['view', 'still']), reason: oneOf(REFUSALS) },
  },
  // class → pupil, on the 'stills' channel (with the binary chunks between begin and end)
  still_begin: {
    channel: STILLS_CHANNEL,
    from: 'class',
    fields: {
      id: isInt(1, MAX_SEQ),
      seq: isSeq,
      mime: oneOf(STILL_MIME),
      width: isInt(1, MAX_STILL_SIDE),
      height: isInt(1, MAX_STILL_SIDE),
      size: isInt(1, MAX_STILL_BYTES),
      chunks: isInt(1, Math.ceil(MAX_STILL_BYTES / CHUNK_PAYLOAD_BYTES)),
      sha256: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
      taken_at: isInt(0, 2 ** 53 - 1),
    },
  },
  still_end: { channel: STILLS_CHANNEL, from: 'class', fields: { id: isInt(1, MAX_SEQ) } },
  still_abort: {
    channel: STILLS_CHANNEL,
    from: 'class',
    fields: { id: isInt(1, MAX_SEQ), reason: oneOf(['paused', 'failed']) },
  },
};

/**
 * A checked message, or null with the reason in `why` (an object to fill).
 * `side` is the receiving side: it accepts only what the other side may send.
 */
export function parseMessage(text, { side, channel }, why = {}) {
  if (typeof text !== 'string') return fail(why, 'not_text');
  if (text.length > MAX_TEXT_BYTES || new TextEncoder().encode(text).length > MAX_TEXT_BYTES) {
    return fail(why, 'too_big');
  }
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return fail(why, 'bad_json');
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return fail(why, 'not_object');
  }
  const schema = Object.hasOwn(SCHEMAS, message.type) ? SCHEMAS[message.type] : null;
  if (!schema || schema.from === side || schema.channel !== channel) {
    return fail(why, 'unknown_type');
  }
  const keys = Object.keys(message);
  if (keys.length !== Object.keys(schema.fields).length + 1) return fail(why, 'bad_fields');
  for (const [name, check] of Object.entries(schema.fields)) {
    if (!Object.hasOwn(message, name) || !check(message[name])) return fail(why, `bad_${name}`);
  }
  return message;
}

function fail(why, reason) {
  why.reason = reason;
  return null;
}

/** A token bucket: `burst` tokens, refilled at `rate` a second. */
export class TokenBucket {
  constructor(rate, burst) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.at = performance.now();
  }

  take() {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One data channel, checked. Events: 'message' {message}, 'chunk' {id, index, payload},
 * 'open', 'close'. Everything that fails a check or a rate limit is dropped and counted
 * (`dropped`, by reason), never handed on.
 */
export class PeerChannel extends EventTarget {
  /**
   * @param {RTCDataChannel} channel
   * @param {'class'|'pupil'} side this page's side
   */
  constructor(channel, side) {
    super();
    this.channel = channel;
    this.side = side;
    this.label = channel.label;
    this.dropped = {};
    // Everything received, valid or not; then stricter buckets per kind of message.
    this.all = new TokenBucket(120, 240);
    this.chunks = new TokenBucket(4000, 4000);
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('open', () => this.dispatchEvent(new Event('open')));
    channel.addEventListener('close', () => this.dispatchEvent(new Event('close')));
    channel.addEventListener('message', ({ data }) => this.receive(data));
  }

  get open() {
    return this.channel.readyState === 'open';
  }

  drop(reason) {
    this.dropped[reason] = (this.dropped[reason] || 0) + 1;
  }

  receive(data) {
    if (typeof data === 'string') {
      if (!this.all.take()) return this.drop('rate');
      const why = {};
      const message = parseMessage(data, { side: this.side, channel: this.label }, why);
      if (!message) return this.drop(why.reason);
      this.dispatchEvent(new CustomEvent('message', { detail: message }));
      return;
    }
    // Binary: only still chunks, only from the class, only on the stills channel.
    if (!(data instanceof ArrayBuffer) || this.side !== 'pupil' || this.label !== STILLS_CHANNEL) {
      return this.drop('unexpected_binary');
    }
    if (!this.chunks.take()) return this.drop('rate');
    if (data.byteLength <= CHUNK_HEADER_BYTES || data.byteLength > CHUNK_BYTES) {
      return this.drop('bad_chunk_size');
    }
    const head = new DataView(data, 0, CHUNK_HEADER_BYTES);
    this.dispatchEvent(
      new CustomEvent('chunk', {
        detail: {
          id: head.getUint32(0),
          index: head.getUint32(4),
          payload: new Uint8Array(data, CHUNK_HEADER_BYTES),
        },
      }),
    );
  }

  send(message) {
    if (!this.open) return false;
    this.channel.send(JSON.stringify(message));
    return true;
  }

  /** Wait until less than `high` bytes are queued (a still does not flood the channel). */
  async drain(high = 1024 * 1024) {
    if (this.channel.bufferedAmount < high) return;
    this.channel.bufferedAmountLowThreshold = high / 4;
    await new Promise((resolve) => {
      const done = () => {
        this.channel.removeEventListener('bufferedamountlow', done);
        this.channel.removeEventListener('close', done);
        resolve();
      };
      this.channel.addEventListener('bufferedamountlow', done);
      this.channel.addEventListener('close', done);
    });
  }
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Class side: send one still (a Blob of an image) on the stills channel: still_begin,
 * the chunks, still_end. `shouldStop()` is asked between chunks (the privacy pause).
 */
export async function sendStill(peer, { id, seq, blob, width, height, takenAt, shouldStop }) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (!bytes.length || bytes.length > MAX_STILL_BYTES) throw new Error('still too big');
  const chunks = Math.ceil(bytes.length / CHUNK_PAYLOAD_BYTES);
  const begin = {
    type: 'still_begin',
    id,
    seq,
    mime: blob.type,
    width,
    height,
    size: bytes.length,
    chunks,
    sha256: await sha256Hex(bytes),
    taken_at: Math.round(takenAt),
  };
  if (!peer.send(begin)) throw new Error('channel closed');
  for (let index = 0; index < chunks; index += 1) {
    if (shouldStop?.()) {
      peer.send({ type: 'still_abort', id, reason: 'paused' });
      return false;
    }
    await peer.drain();
    if (!peer.open) throw new Error('channel closed');
    const payload = bytes.subarray(index * CHUNK_PAYLOAD_BYTES, (index + 1) * CHUNK_PAYLOAD_BYTES);
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + payload.length);
    const head = new DataView(chunk.buffer);
    head.setUint32(0, id);
    head.setUint32(4, index);
    chunk.set(payload, CHUNK_HEADER_BYTES);
    peer.channel.send(chunk.buffer);
  }
  peer.send({ type: 'still_end', id });
  return true;
}

/**
 * Pupil side: reassemble the stills arriving on a PeerChannel. Events: 'progress'
 * {id, received, chunks}, 'still' {id, seq, blob, width, height, takenAt}, 'failed'
 * {id, reason}. One still at a time; a new still_begin drops an unfinished one.
 */
export class StillReceiver extends EventTarget {
  constructor() {
    super();
    this.current = null;
    this.begins = new TokenBucket(1, 3);
  }

  attach(peer) {
    peer.addEventListener('message', ({ detail }) => this.onMessage(detail));
    peer.addEventListener('chunk', ({ detail }) => this.onChunk(detail));
    peer.addEventListener('close', () => this.abandon('closed'));
  }

  fail(id, reason) {
    this.dispatchEvent(new CustomEvent('failed', { detail: { id, reason } }));
  }

  abandon(reason) {
    if (!this.current) return;
    clearTimeout(this.current.timer);
    const { id } = this.current;
    this.current = null;
    this.fail(id, reason);
  }

  onMessage(message) {
    if (message.type === 'still_begin') {
      if (!this.begins.take()) return;
      // The declared size and chunk count must agree, or the still is refused outright.
      if (message.chunks !== Math.ceil(message.size / CHUNK_PAYLOAD_BYTES)) {
        this.fail(message.id, 'bad_header');
        return;
      }
      this.abandon('replaced');
      this.current = {
        ...message,
        buffer: new Uint8Array(message.size),
        next: 0,
        timer: setTimeout(() => this.abandon('timeout'), STILL_TIMEOUT_MS),
      };
    } else if (message.type === 'still_abort') {
      if (this.current?.id === message.id) this.abandon(message.reason);
    } else if (message.type === 'still_end') {
      if (this.current?.id === message.id) this.finish().catch(() => {});
    }
  }

  onChunk({ id, index, payload }) {
    const still = this.current;
    if (!still || still.id !== id) return;
    const expected =
      index === still.chunks - 1
        ? still.size - (still.chunks - 1) * CHUNK_PAYLOAD_BYTES
        : CHUNK_PAYLOAD_BYTES;
    // Chunks come in order on a reliable, ordered channel: anything else is broken.
    if (index !== still.next || payload.length !== expected) {
      this.abandon('bad_chunk');
      return;
    }
    still.buffer.set(payload, index * CHUNK_PAYLOAD_BYTES);
    still.next += 1;
    this.dispatchEvent(
      new CustomEvent('progress', { detail: { id, received: still.next, chunks: still.chunks } }),
    );
  }

  async finish() {
    const still = this.current;
    this.current = null;
    clearTimeout(still.timer);
    if (still.next !== still.chunks) return this.fail(still.id, 'incomplete');
    if ((await sha256Hex(still.buffer)) !== still.sha256) return this.fail(still.id, 'checksum');
    const blob = new Blob([still.buffer], { type: still.mime });
    // The picture must decode, at the size announced.
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob);
    } catch {
      return this.fail(still.id, 'undecodable');
    }
    const ok = bitmap.width === still.width && bitmap.height === still.height;
    bitmap.close();
    if (!ok) return this.fail(still.id, 'bad_size');
    this.dispatchEvent(
      new CustomEvent('still', {
        detail: {
          id: still.id,
          seq: still.seq,
          blob,
          width: still.width,
          height: still.height,
          takenAt: still.taken_at,
        },
      }),
    );
  }
}
