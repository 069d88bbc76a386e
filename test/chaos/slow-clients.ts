/**
 * Misbehaving HTTPS clients for the chaos tests, on raw TLS sockets: a body sent in chunks with
 * no length (to see where the server stops reading), and slow-loris clients that dribble their
 * headers or body a byte at a time. Every socket is destroyed by `stop()` or its own deadline.
 */
import tls from 'node:tls';

/** Where to connect: host, port and the CA that signed the server certificate. */
export interface Target {
  host: string;
  port: number;
  ca: string;
}

/** Opens a TLS connection; resolves once the handshake is done. */
export function connectTls(t: Target, timeoutMs = 15_000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: t.host, port: t.port, ca: t.ca });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`TLS connect timed out after ${timeoutMs} ms`)); }, timeoutMs);
    s.once('secureConnect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** What a chunked upload saw: the answer's status line and how many body bytes went out before and after it. */
export interface UploadResult {
  status: number;
  bytesSentBeforeAnswer: number;
  /** Body bytes written in all (the upload goes on after the answer, until the server closes). */
  bytesSent: number;
  /** True when the server closed the connection before the whole body was sent. */
  closed: boolean;
}

/**
 * POSTs a body of up to `totalBytes` (chunked transfer encoding, no Content-Length) and goes on
 * sending after the answer, until the server closes the connection or everything is sent;
 * never sends more than `totalBytes`.
 */
export async function chunkedUpload(t: Target, path: string, token: string, totalBytes: number, timeoutMs = 60_000): Promise<UploadResult> {
  const s = await connectTls(t);
  return new Promise((resolve) => {
    let sent = 0;
    let sentBeforeAnswer: number | undefined;
    let answer = '';
    let status = 0;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ status, bytesSentBeforeAnswer: sentBeforeAnswer ?? sent, bytesSent: sent, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m !== null && status === 0) {
        status = Number(m[1]);
        sentBeforeAnswer = sent;
      }
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.write(`POST ${path} HTTP/1.1\r\nHost: ${t.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20); // spaces: valid JSON whitespace, so only the size is wrong
    const pump = (): void => {
      while (!done && sent < totalBytes) {
        const n = Math.min(chunk.length, totalBytes - sent);
        sent += n;
        const ok = s.write(Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), chunk.subarray(0, n), Buffer.from('\r\n')]));
        if (!ok) {
          s.once('drain', pump);
          return;
        }
      }
      if (!done && sent >= totalBytes) s.end('0\r\n\r\n', () => setTimeout(() => finish(false), 1_000));
    };
    pump();
  });
}

/** One slow-loris connection and what became of it. */
export interface LorisConnection {
  /** Milliseconds from open to the server closing it (undefined: still open). */
  closedAfterMs?: number;
  /** The status the server answered before closing, if any (408: timed out). */
  status?: number;
}

/**
 * `count` connections that each send the start of a request and then one byte every
 * `byteEveryMs`: `headers` mode never finishes its header block; `body` mode sends complete
 * headers announcing a body, then dribbles the body. `stop()` destroys whatever is left.
 */
export class SlowLoris {
  readonly connections: LorisConnection[] = [];
  private readonly sockets: tls.TLSSocket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor() {}

  static async open(t: Target, opts: { count: number; mode: 'headers' | 'body'; byteEveryMs: number; token: string }): Promise<SlowLoris> {
    const l = new SlowLoris();
    try {
      for (let i = 0; i < opts.count; i++) l.add(await connectTls(t), t, opts);
    } catch (err) {
      l.stop();
      throw err;
    }
    return l;
  }

  private add(s: tls.TLSSocket, t: Target, opts: { mode: 'headers' | 'body'; byteEveryMs: number; token: string }): void {
    const c: LorisConnection = {};
    const opened = Date.now();
    this.connections.push(c);
    this.sockets.push(s);
    let answer = '';
    s.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m !== null) c.status = Number(m[1]);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      c.closedAfterMs = Date.now() - opened;
      clearInterval(timer);
    });
    if (opts.mode === 'headers') {
      s.write(`GET /api/v1/configs HTTP/1.1\r\nHost: ${t.host}\r\nX-Slow: `);
    } else {
      s.write(`POST /api/v1/configs HTTP/1.1\r\nHost: ${t.host}\r\nAuthorization: Bearer ${opts.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    }
    const timer = setInterval(() => { if (!s.destroyed) s.write(opts.mode === 'headers' ? 'a' : ' '); }, opts.byteEveryMs);
    this.timers.push(timer);
  }

  /** Connections the server has closed. */
  get closedByServer(): number {
    return this.connections.filter((c) => c.closedAfterMs !== undefined).length;
  }

  /** Destroys every connection. Idempotent. */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
  }
}
