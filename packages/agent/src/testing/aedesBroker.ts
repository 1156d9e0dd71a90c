import { createServer, type Server, type Socket } from 'node:net';
import { verifyProof } from '@opensag/proto';
import { Aedes } from 'aedes';

/** A message some client (or the broker, for a Last Will) published. */
export interface Published {
  topic: string;
  payload: Buffer;
  qos: number;
  clientId: string | null;
}

export interface ConnectAttempt {
  clientId: string;
  username: string;
  ok: boolean;
  reason?: string;
  nonce?: string;
}

export interface TestBrokerOptions {
  /** serial number → standard base64 public key. */
  devices: ReadonlyMap<string, string>;
  /** 0 for an ephemeral port; a restarted broker reuses the previous one. */
  port?: number;
  /** Shared across restarts so a replayed proof stays refused. */
  seenNonces?: Set<string>;
}

/**
 * A real aedes broker on loopback that authenticates devices the way SPEC §5 says (the Ed25519
 * proof, clientId = username = serial, each nonce once) and records everything published.
 */
export class TestBroker {
  readonly published: Published[] = [];
  readonly subscriptions: { clientId: string; topic: string; qos: number }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly aedes: Aedes,
    private readonly server: Server,
    readonly port: number,
    readonly seenNonces: Set<string>,
    /** Every CONNECT this broker judged, in order. */
    readonly attempts: ConnectAttempt[],
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    aedes.on('subscribe', (subscriptions, client) => {
      for (const s of subscriptions)
        this.subscriptions.push({ clientId: client.id, topic: s.topic, qos: s.qos });
    });
    aedes.on('publish', (packet, client) => {
      if (packet.topic.startsWith('$SYS')) return;
      this.published.push({
        topic: packet.topic,
        payload: Buffer.from(packet.payload),
        qos: packet.qos,
        clientId: client ? client.id : null,
      });
    });
  }

  static async start(options: TestBrokerOptions): Promise<TestBroker> {
    const seenNonces = options.seenNonces ?? new Set<string>();
    const attempts: ConnectAttempt[] = [];
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, callback) => {
        const serial = username ?? '';
        const publicKey = options.devices.get(serial);
        const verdict =
          publicKey && client.id === serial
            ? verifyProof(serial, password?.toString('utf8') ?? '', publicKey, Date.now())
            : ({ ok: false, reason: 'unknown-device' } as const);
        const replayed = verdict.ok && seenNonces.has(verdict.nonce);
        if (verdict.ok && !replayed) seenNonces.add(verdict.nonce);
        attempts.push({
          clientId: client.id,
          username: serial,
          ok: verdict.ok && !replayed,
          ...(verdict.ok ? { nonce: verdict.nonce } : { reason: verdict.reason }),
          ...(replayed ? { reason: 'replayed' } : {}),
        });
        if (verdict.ok && !replayed) callback(null, true);
        else callback(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
      },
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    return new TestBroker(aedes, server, port, seenNonces, attempts);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Publishes as the cloud does (QoS 1, not retained). */
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false },
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
  }

  on(topic: string): Published[] {
    return this.published.filter((p) => p.topic === topic);
  }

  isConnected(clientId: string): boolean {
    return (
      (this.aedes as unknown as { clients: Record<string, { connected: boolean }> }).clients[clientId]
        ?.connected === true
    );
  }

  /** Kills a client's TCP connection without a DISCONNECT, as a crash or a cut cable would. */
  dropClient(clientId: string): void {
    const client = (this.aedes as unknown as { clients: Record<string, { conn: Socket }> }).clients[clientId];
    if (!client) throw new Error(`no client ${clientId}`);
    client.conn.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
