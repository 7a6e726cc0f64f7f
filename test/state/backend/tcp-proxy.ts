// A TCP proxy for tests: forwards to a target, and on demand stalls (stops forwarding, closes nothing) or loses one answer.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Stops forwarding in both directions on every connection, now and new; sockets stay open (a cut network). */
  stall(): void;
  /**
   * The next client message containing `marker` is forwarded; the server's whole answer to it (up to PostgreSQL's
   * ReadyForQuery) is swallowed and both sides are then reset: the statement committed, the client never heard.
   */
  loseAnswerTo(marker: string): void;
  /** How many answers were lost so far. */
  readonly lost: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  dropping: boolean;
  held: Buffer[];
}

/** PostgreSQL's ReadyForQuery message: 'Z', length 5, status byte. */
function endsWithReady(b: Buffer): boolean {
  return b.length >= 6 && b[b.length - 6] === 0x5a && b.readInt32BE(b.length - 5) === 5;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let stalled = false;
  let marker: Buffer | undefined;
  let lost = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: Pair = { client, upstream, dropping: false, held: [] };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', () => {
      // A stalled network does not carry the FIN either.
      if (!stalled) end();
    });
    upstream.on('error', end).on('close', () => {
      if (!stalled) end();
    });
    if (stalled) {
      client.pause();
      upstream.pause();
    }
    client.on('data', (d: Buffer) => {
      if (stalled) return;
      if (marker && d.includes(marker)) {
        marker = undefined;
        pair.dropping = true;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (stalled) return;
      if (pair.dropping) {
        pair.held.push(d);
        if (endsWithReady(Buffer.concat(pair.held))) {
          lost++;
          client.resetAndDestroy();
          upstream.destroy();
          pairs.delete(pair);
        }
        return;
      }
      client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    stall: () => {
      stalled = true;
      for (const p of pairs) {
        p.client.pause();
        p.upstream.pause();
      }
    },
    loseAnswerTo: (m) => {
      marker = Buffer.from(m, 'utf8');
    },
    get lost() {
      return lost;
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
