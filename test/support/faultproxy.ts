/**
 * A fault-injecting TCP proxy for tests, on loopback only, seeded so a run can be replayed.
 *
 * It forwards connections to one target and frames the client's byte stream into HTTP/1.1
 * requests (by Content-Length), so each fault hits one whole request as a real network would hit
 * the packets carrying it:
 *
 * - `drop`: the request never arrives (the connection is cut before it is forwarded), or — half
 *   of the time — it arrives and the answer is lost (cut when the answer starts);
 * - `delay`: the request and its answer wait `delayMs` each way;
 * - `duplicate`: the request is also sent a second time on a fresh connection;
 * - `reorder`: the request is held back `reorderMs` while other connections' requests overtake it;
 * - `corrupt`: one byte of the request or of its answer is flipped;
 * - `partition`: on a seeded schedule (or on demand) every connection is cut and new ones are
 *   refused for a while.
 *
 * `counts` says how many of each were actually injected.
 *
 * In TLS mode (`tls`) it stands in the middle of pinned mutual TLS (docs/protocol.md § Transport),
 * which only a party holding both nodes' keys can do — a test: it serves the target's own
 * certificate, so a client pinning the target accepts it, asks for the client's certificate, and
 * reaches the target presenting the identity, among those it was given, whose pin is the one the
 * client presented (a client presenting any other, or none, is refused and counted in `refused`).
 * The faults then hit the requests inside TLS exactly as in plain mode.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type Server as TlsServer,
  connect as tlsConnect,
} from 'node:tls';
import { spkiPin, type TlsIdentity } from '../../src/crypto/tls.ts';

export const FAULTS = ['drop', 'delay', 'duplicate', 'reorder', 'corrupt', 'partition'] as const;
export type Fault = (typeof FAULTS)[number];

/** Per-request probabilities (0–1) of each fault; the rest pass untouched. */
export type FaultRates = Partial<Record<Exclude<Fault, 'partition'>, number>>;

export interface ProxyOptions {
  /** The target's port on 127.0.0.1. */
  targetPort: number;
  seed: number;
  rates?: FaultRates;
  /** [min, max] ms. */
  delayMs?: [number, number];
  reorderMs?: [number, number];
  /** Seeded partitions: the gap before each one and its length, [min, max] ms each. */
  partitions?: { gapMs: [number, number]; lengthMs: [number, number] };
  /** Set to a name to tell proxies apart in failure messages. */
  name?: string;
  /** Pinned mutual TLS on both sides, as described above. */
  tls?: ProxyTls;
}

export interface ProxyTls {
  /** The target's own key and certificate (its data folder's `tls.key` and `tls.crt`). */
  target: TlsIdentity;
  /** Identities the proxy may present to the target on a client's behalf. */
  clients: readonly TlsIdentity[];
}

/** mulberry32: a small, fast, seedable PRNG; good enough to schedule faults reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FaultProxy {
  readonly counts: Record<Fault, number> = {
    drop: 0,
    delay: 0,
    duplicate: 0,
    reorder: 0,
    corrupt: 0,
    partition: 0,
  };
  /** Requests forwarded (a duplicate counts once). */
  requests = 0;
  /** Requests forwarded, by method and path: `POST /federation/v1/envelopes`. */
  readonly seen = new Map<string, number>();
  /** TLS mode: connections refused for presenting no certificate or one not in `clients`. */
  refused = 0;
  /** While set, requests are swallowed: never forwarded, never answered, never cut. */
  blackhole = false;
  /** While set, requests whose line it accepts arrive, and their answers are cut. */
  loseAnswers: ((line: string) => boolean) | undefined;
  /** While set, each request line is forwarded as it returns it (e.g. without its query). */
  rewriteLine: ((line: string) => string) | undefined;
  rates: FaultRates;
  readonly #options: ProxyOptions;
  readonly #random: () => number;
  readonly #server: Server;
  /** TLS mode: terminates the client's TLS; fed the connections `#server` accepts. */
  readonly #tlsServer: TlsServer | undefined;
  readonly #sockets = new Set<Socket>();
  #partitionedUntil = 0;
  #scheduler: NodeJS.Timeout | undefined;
  #closed = false;
  port = 0;

  private constructor(options: ProxyOptions) {
    this.#options = options;
    this.rates = { ...options.rates };
    this.#random = prng(options.seed);
    this.#server = createServer((client) => this.#accept(client));
    const { tls } = options;
    if (!tls) return;
    this.#tlsServer = createTlsServer({
      key: tls.target.key,
      cert: tls.target.cert,
      minVersion: 'TLSv1.3',
      requestCert: true,
      // The client's certificate is matched against `clients` below, not against CAs.
      rejectUnauthorized: false,
    });
    this.#tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
    this.#tlsServer.on('secureConnection', (client: TLSSocket) => {
      this.#track(client);
      const raw = client.getPeerCertificate()?.raw;
      const pin = raw ? spkiPin(raw) : undefined;
      const identity = tls.clients.find((c) => c.pin === pin);
      if (!identity || this.partitioned) {
        if (!identity) this.refused++;
        client.destroy();
        return;
      }
      this.#relay(client, identity);
    });
  }

  static async start(options: ProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    proxy.port = typeof address === 'object' && address ? address.port : 0;
    if (options.partitions) proxy.#schedule();
    return proxy;
  }

  get url(): string {
    return `${this.#tlsServer ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get partitioned(): boolean {
    return Date.now() < this.#partitionedUntil;
  }

  /** Cuts every connection now and refuses new ones for `ms`. */
  partition(ms: number): void {
    this.counts.partition++;
    this.#partitionedUntil = Math.max(this.#partitionedUntil, Date.now() + ms);
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Ends a partition early. */
  heal(): void {
    this.#partitionedUntil = 0;
  }

  /** Stops the partition schedule (the proxy keeps forwarding). */
  calm(): void {
    clearTimeout(this.#scheduler);
    this.rates = {};
    this.heal();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#scheduler);
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #between([min, max]: [number, number]): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  #schedule(): void {
    const { partitions } = this.#options;
    if (!partitions || this.#closed) return;
    this.#scheduler = setTimeout(() => {
      this.partition(this.#between(partitions.lengthMs));
      this.#schedule();
    }, this.#between(partitions.gapMs));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #pick(): Exclude<Fault, 'partition'> | undefined {
    let r = this.#random();
    for (const fault of ['drop', 'delay', 'duplicate', 'reorder', 'corrupt'] as const) {
      const p = this.rates[fault] ?? 0;
      if (r < p) return fault;
      r -= p;
    }
    return undefined;
  }

  /**
   * A new connection to the target: plain, or TLS presenting `identity` and accepting only the
   * target's own certificate.
   */
  #upstream(identity: TlsIdentity | undefined): Socket {
    const { targetPort, tls } = this.#options;
    if (!identity || !tls) {
      const socket = connect(targetPort, '127.0.0.1');
      this.#track(socket);
      return socket;
    }
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: targetPort,
      key: identity.key,
      cert: identity.cert,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['http/1.1'],
      // Checked against the target's pin below, not against CAs.
      rejectUnauthorized: false,
    });
    this.#track(socket);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate()?.raw;
      if (!raw || spkiPin(raw) !== tls.target.pin) socket.destroy();
    });
    return socket;
  }

  #accept(client: Socket): void {
    this.#track(client);
    if (this.partitioned) {
      client.destroy();
      return;
    }
    if (this.#tlsServer) this.#tlsServer.emit('connection', client);
    else this.#relay(client, undefined);
  }

  /** Frames the client's requests and forwards them, faults and all, on one upstream connection. */
  #relay(client: Socket, identity: TlsIdentity | undefined): void {
    const server = this.#upstream(identity);
    const cut = () => {
      client.destroy();
      server.destroy();
    };
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
    /** What happens to the next chunk of the answer. */
    let answer: { delayMs: number; corrupt: boolean; drop: boolean } = {
      delayMs: 0,
      corrupt: false,
      drop: false,
    };
    let answerChain = Promise.resolve();
    server.on('data', (chunk: Buffer) => {
      const { delayMs, corrupt, drop } = answer;
      answer = { delayMs, corrupt: false, drop: false };
      if (drop) return cut();
      const out = corrupt ? flipByte(chunk, this.#random) : chunk;
      answerChain = answerChain.then(async () => {
        if (delayMs) await sleep(delayMs);
        if (!client.destroyed) client.write(out);
      });
    });
    let pending = Buffer.alloc(0);
    let chain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const size = requestSize(pending);
        if (size === undefined) break;
        const request = pending.subarray(0, size);
        pending = pending.subarray(size);
        const fault = this.#pick();
        chain = chain.then(() =>
          this.#forward(request, fault, identity, server, cut, (a) => (answer = a)),
        );
      }
      if (pending.length > 64 * 1024 * 1024) cut();
    });
  }

  async #forward(
    request: Buffer,
    fault: Exclude<Fault, 'partition'> | undefined,
    identity: TlsIdentity | undefined,
    server: Socket,
    cut: () => void,
    onAnswer: (a: { delayMs: number; corrupt: boolean; drop: boolean }) => void,
  ): Promise<void> {
    if (server.destroyed || this.blackhole) return;
    this.requests++;
    if (this.rewriteLine) {
      const end = request.indexOf(' HTTP/');
      const line = this.rewriteLine(request.subarray(0, end).toString('latin1'));
      request = Buffer.concat([Buffer.from(line, 'latin1'), request.subarray(end)]);
    }
    const line = request.subarray(0, Math.max(0, request.indexOf(' HTTP/'))).toString('latin1');
    this.seen.set(line, (this.seen.get(line) ?? 0) + 1);
    let bytes = request;
    let answer = { delayMs: 0, corrupt: false, drop: this.loseAnswers?.(line) ?? false };
    if (fault) this.counts[fault]++;
    switch (fault) {
      case 'drop':
        if (this.#random() < 0.5) return cut();
        answer.drop = true;
        break;
      case 'delay': {
        const ms = this.#between(this.#options.delayMs ?? [20, 200]);
        answer = { ...answer, delayMs: ms };
        await sleep(ms);
        break;
      }
      case 'reorder':
        await sleep(this.#between(this.#options.reorderMs ?? [100, 500]));
        break;
      case 'duplicate': {
        const twin = this.#upstream(identity);
        twin.on('data', () => {});
        twin.write(request, () => setTimeout(() => twin.destroy(), 5000).unref());
        break;
      }
      case 'corrupt':
        if (this.#random() < 0.5) bytes = flipByte(request, this.#random);
        else answer.corrupt = true;
        break;
    }
    if (server.destroyed) return;
    onAnswer(answer);
    server.write(bytes);
  }
}

/** Flips one bit of one byte past the first line (so the request line still parses, mostly). */
function flipByte(chunk: Buffer, random: () => number): Buffer {
  const out = Buffer.from(chunk);
  if (!out.length) return out;
  const at = Math.floor(random() * out.length);
  out[at] = (out[at] as number) ^ (1 << Math.floor(random() * 8));
  return out;
}

/** The byte length of the first complete HTTP/1.1 request in `buffer`, or undefined. */
function requestSize(buffer: Buffer): number | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const size = end + 4 + (length ? Number(length[1]) : 0);
  return buffer.length >= size ? size : undefined;
}
