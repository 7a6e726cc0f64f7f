// A small client of strongSwan's vici protocol (unix socket): commands, streamed events, and log events tagged
// with the IKE_SA they concern. The emulator's IPsec responders are driven through it; the negotiation tests read SAs with it.
import { connect, type Socket } from 'node:net';

/** A vici message: sections are objects, lists are string arrays, values are strings. */
export type ViciValue = string | string[] | ViciMessage;
export interface ViciMessage {
  [key: string]: ViciValue;
}

const CMD_REQUEST = 0;
const CMD_RESPONSE = 1;
const CMD_UNKNOWN = 2;
const EVENT_REGISTER = 3;
const EVENT_CONFIRM = 5;
const EVENT_UNKNOWN = 6;
const EVENT = 7;

const SECTION_START = 1;
const SECTION_END = 2;
const KEY_VALUE = 3;
const LIST_START = 4;
const LIST_ITEM = 5;
const LIST_END = 6;

function encodeMessage(msg: ViciMessage): Buffer {
  const parts: Buffer[] = [];
  const name = (n: string) => {
    const b = Buffer.from(n);
    return Buffer.concat([Buffer.from([b.length]), b]);
  };
  const val = (v: string) => {
    const b = Buffer.from(v);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const walk = (m: ViciMessage) => {
    for (const [k, v] of Object.entries(m)) {
      if (typeof v === 'string') parts.push(Buffer.from([KEY_VALUE]), name(k), val(v));
      else if (Array.isArray(v)) {
        parts.push(Buffer.from([LIST_START]), name(k));
        for (const item of v) parts.push(Buffer.from([LIST_ITEM]), val(item));
        parts.push(Buffer.from([LIST_END]));
      } else {
        parts.push(Buffer.from([SECTION_START]), name(k));
        walk(v);
        parts.push(Buffer.from([SECTION_END]));
      }
    }
  };
  walk(msg);
  return Buffer.concat(parts);
}

function decodeMessage(buf: Buffer): ViciMessage {
  const root: ViciMessage = {};
  const stack: ViciMessage[] = [root];
  let list: string[] | undefined;
  let i = 0;
  const readName = () => {
    const len = buf[i++] as number;
    const s = buf.subarray(i, i + len).toString();
    i += len;
    return s;
  };
  const readValue = () => {
    const len = buf.readUInt16BE(i);
    i += 2;
    const s = buf.subarray(i, i + len).toString();
    i += len;
    return s;
  };
  while (i < buf.length) {
    const type = buf[i++];
    const top = stack[stack.length - 1] as ViciMessage;
    if (type === SECTION_START) {
      const s: ViciMessage = {};
      top[readName()] = s;
      stack.push(s);
    } else if (type === SECTION_END) stack.pop();
    else if (type === KEY_VALUE) {
      const k = readName();
      top[k] = readValue();
    } else if (type === LIST_START) {
      list = [];
      top[readName()] = list;
    } else if (type === LIST_ITEM) list?.push(readValue());
    else if (type === LIST_END) list = undefined;
    else throw new Error(`vici: unknown element type ${String(type)}`);
  }
  return root;
}

interface Pending {
  resolve: (m: ViciMessage) => void;
  reject: (e: Error) => void;
  kind: 'command' | 'register';
}

export class Vici {
  private readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];
  private readonly listeners = new Map<string, Array<(m: ViciMessage) => void>>();
  private closed = false;
  private readonly registered = new Set<string>();
  /** Commands run one at a time: streamed events carry no request id. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('vici: socket closed')));
  }

  static async open(path: string): Promise<Vici> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new Vici(s)));
      s.once('error', reject);
    });
  }

  private fail(e: Error): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    while (this.buffer.length >= 4) {
      const len = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 4 + len) return;
      const packet = this.buffer.subarray(4, 4 + len);
      this.buffer = this.buffer.subarray(4 + len);
      this.onPacket(packet);
    }
  }

  private onPacket(p: Buffer): void {
    const type = p[0];
    if (type === EVENT) {
      const nameLen = p[1] as number;
      const name = p.subarray(2, 2 + nameLen).toString();
      const msg = decodeMessage(p.subarray(2 + nameLen));
      for (const l of this.listeners.get(name) ?? []) l(msg);
      return;
    }
    const pending = this.queue.shift();
    if (!pending) return;
    if (type === CMD_RESPONSE || type === EVENT_CONFIRM) pending.resolve(decodeMessage(p.subarray(1)));
    else if (type === CMD_UNKNOWN) pending.reject(new Error('vici: unknown command'));
    else if (type === EVENT_UNKNOWN) pending.reject(new Error('vici: unknown event'));
    else pending.reject(new Error(`vici: unexpected packet type ${String(type)}`));
  }

  private send(type: number, name: string, body: Buffer, kind: Pending['kind']): Promise<ViciMessage> {
    if (this.closed) return Promise.reject(new Error('vici: closed'));
    const n = Buffer.from(name);
    const payload = Buffer.concat([Buffer.from([type, n.length]), n, body]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(payload.length);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, kind });
      this.socket.write(Buffer.concat([len, payload]));
    });
  }

  /** Sends a command; events named `stream` that arrive before the answer are collected and returned with it. */
  request(command: string, msg: ViciMessage = {}, stream?: string): Promise<{ response: ViciMessage; events: ViciMessage[] }> {
    const run = async () => {
      const events: ViciMessage[] = [];
      const off = stream ? this.on(stream, (m) => events.push(m)) : undefined;
      try {
        if (stream) await this.register(stream);
        const response = await this.send(CMD_REQUEST, command, encodeMessage(msg), 'command');
        return { response, events };
      } finally {
        off?.();
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async register(event: string): Promise<void> {
    if (this.registered.has(event)) return;
    this.registered.add(event);
    await this.send(EVENT_REGISTER, event, Buffer.alloc(0), 'register');
  }

  /** Registers for an event (e.g. `log`, `ike-updown`) and calls `fn` for each; returns the local unsubscriber. */
  on(event: string, fn: (m: ViciMessage) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return () => {
      const l = this.listeners.get(event) ?? [];
      const k = l.indexOf(fn);
      if (k >= 0) l.splice(k, 1);
    };
  }

  async subscribe(event: string, fn: (m: ViciMessage) => void): Promise<void> {
    this.on(event, fn);
    const run = () => this.register(event);
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    await p;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** One IKE_SA and its CHILD_SAs as list-sas reports them. */
export interface SaInfo {
  name: string;
  uniqueid: string;
  state: string;
  version: string;
  remoteHost: string;
  children: Array<{ name: string; uniqueid: string; state: string; spiIn: string; bytesIn: number; bytesOut: number; localTs: string[]; remoteTs: string[] }>;
}

export async function listSas(v: Vici): Promise<SaInfo[]> {
  const { events } = await v.request('list-sas', {}, 'list-sa');
  const out: SaInfo[] = [];
  for (const ev of events) {
    for (const [name, sa] of Object.entries(ev)) {
      if (typeof sa !== 'object' || Array.isArray(sa)) continue;
      const childSas = sa['child-sas'];
      const children: SaInfo['children'] = [];
      if (childSas && typeof childSas === 'object' && !Array.isArray(childSas)) {
        for (const c of Object.values(childSas)) {
          if (typeof c !== 'object' || Array.isArray(c)) continue;
          children.push({
            name: String(c['name'] ?? ''),
            uniqueid: String(c['uniqueid'] ?? ''),
            state: String(c['state'] ?? ''),
            spiIn: String(c['spi-in'] ?? ''),
            bytesIn: Number(c['bytes-in'] ?? 0),
            bytesOut: Number(c['bytes-out'] ?? 0),
            localTs: Array.isArray(c['local-ts']) ? c['local-ts'] : [],
            remoteTs: Array.isArray(c['remote-ts']) ? c['remote-ts'] : [],
          });
        }
      }
      out.push({ name, uniqueid: String(sa['uniqueid'] ?? ''), state: String(sa['state'] ?? ''), version: String(sa['version'] ?? ''), remoteHost: String(sa['remote-host'] ?? ''), children });
    }
  }
  return out;
}
