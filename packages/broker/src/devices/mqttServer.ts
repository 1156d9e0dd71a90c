import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createServer, type Socket, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { LIMITS } from '@opensag/proto';
import { Aedes, type AedesOptions } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { HostPort, TlsCredentials } from '../config.js';

/**
 * The embedded MQTT broker's limits, each chosen on purpose (documented in docs/protocol.md).
 * Device topics have 5 levels and QoS 0/1 only, so everything beyond that is hostile.
 */
export const MQTT_LIMITS = {
  /** A device that stops reading is dropped after 20 s so it cannot stall delivery to others. */
  drainTimeout: 20_000,
  /** Protocol topics have 5 levels; 8 refuses deep topics long before the router sees them. */
  maxTopicLevels: 8,
  /** Keepalive must be 1–300 s: 0 (no keepalive) would hide a dead device from presence. */
  keepaliveLimit: 300,
  /**
   * A connection has 30 s to send CONNECT, so idle sockets cannot pile up. Not less: when a fleet
   * comes back together after a restart, CONNECTs wait their turn behind thousands of proofs, and a
   * device cut off for waiting starts over at the back of the queue (agents also wait 30 s).
   */
  connectTimeout: 30_000,
  /** A device sends SUBSCRIBE and hello right after CONNECT; more than 16 early packets is a flood. */
  queueLimit: 16,
  /** The longest serial number (only MQTT 3.1 clients are checked by aedes; 3.1.1 by authenticate). */
  maxClientsIdLength: 64,
  /** Devices never use QoS 2 (refused by authorize); a small cap bounds what a client can park. */
  maxInflightInbound: 16,
  /**
   * No cap on messages in aedes' emitter at once (its default is 100). Past the cap messages queue,
   * and the emitter runs queued messages nobody subscribes to (every device message) one inside the
   * other: a fleet's hellos arriving during a push to thousands overflowed the stack. What is in
   * flight stays bounded without it: by maxInflightInbound per device, and by the push's batches.
   */
  concurrency: 0,
  /** WebSocket frames above one protocol payload plus headroom are refused by ws itself. */
  maxWebSocketFrameBytes: LIMITS.maxPayloadBytes + 64 * 1024,
  /**
   * The largest MQTT packet a connection may announce: one protocol payload plus room for the
   * topic. aedes' parser has no cap and buffers up to 256 MiB per connection waiting for a body.
   */
  maxPacketBytes: LIMITS.maxPayloadBytes + 64 * 1024,
  /**
   * The largest first packet (the CONNECT) of a connection: serial, proof and Will take under
   * 1 KiB, and an unauthenticated stranger gets no more memory than that.
   */
  maxConnectBytes: 4096,
} as const;

/** What `guardPacketSize` allows a device connection, on every listener. */
const PACKET_SIZE_LIMITS = { first: MQTT_LIMITS.maxConnectBytes, rest: MQTT_LIMITS.maxPacketBytes };

/**
 * Connections the kernel holds for aedes to accept (Node's default is 511). A fleet returning
 * together after a restart arrives faster than a busy event loop accepts, and an overflowing queue
 * resets connections. Linux caps it at net.core.somaxconn (4096 by default).
 */
export const MQTT_LISTEN_BACKLOG = 4096;

export type MqttHandlers = Pick<
  AedesOptions,
  'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward' | 'published'
>;

export interface MqttServer {
  aedes: Aedes;
  /** Where the TCP listener is bound (port 0 in the request gives an ephemeral one here). */
  tcpAddress: HostPort;
  /** Stops accepting TCP connections and WebSocket upgrades at once; existing clients stay. */
  stopAccepting(): void;
  /** Closes every client and the broker itself. */
  close(): Promise<void>;
}

export const WEBSOCKET_PATH = '/mqtt';

/** Where the device listener binds; with `tls` it serves MQTT over TLS (`mqtts://`) only. */
export interface MqttListener extends HostPort {
  tls?: TlsCredentials | null;
}

/**
 * A TLS client gets as long to finish its handshake as a plain one gets to send CONNECT (the
 * handshake comes first, so a stranger that stalls there holds no more than one that stalls later).
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = MQTT_LIMITS.connectTimeout;

/** Starts aedes on TCP and, when an HTTP server is given, as WebSocket at `/mqtt` on it. */
export async function startMqttServer(options: {
  tcp: MqttListener;
  httpServer?: HttpServer;
  handlers: MqttHandlers;
}): Promise<MqttServer> {
  const { maxWebSocketFrameBytes, maxPacketBytes, maxConnectBytes, ...aedesLimits } = MQTT_LIMITS;
  const aedes = await Aedes.createBroker({ ...aedesLimits, ...options.handlers });
  const onConnection = (socket: Socket) => {
    aedes.handle(socket);
    guardPacketSize(socket, PACKET_SIZE_LIMITS);
  };
  const tcp = createListener(options.tcp.tls ?? null, onConnection);
  try {
    await listen(tcp, options.tcp);
  } catch (err) {
    await closeAedes(aedes);
    throw err;
  }
  const ws = options.httpServer ? attachWebSocket(options.httpServer, aedes, maxWebSocketFrameBytes) : null;
  const address = tcp.address();
  const tcpAddress =
    typeof address === 'object' && address ? { host: options.tcp.host, port: address.port } : options.tcp;
  // Each listener's close resolves only once its last connection ended, i.e. after aedes closed them.
  let listenersClosed: Promise<void> | null = null;
  const stopAccepting = () => {
    listenersClosed ??= Promise.all([
      new Promise<void>((resolve) => tcp.close(() => resolve())),
      ws?.stop(),
    ]).then(() => undefined);
  };
  return {
    aedes,
    tcpAddress,
    stopAccepting,
    async close() {
      // Stop the door first, then let aedes close each client (Wills, offline), then the listeners.
      stopAccepting();
      await closeAedes(aedes);
      await listenersClosed;
    },
  };
}

/**
 * Plain TCP, or TLS (1.2 at least) where the handler gets each socket once its handshake is done:
 * aedes and the packet-size guard then read plain MQTT from it, as on TCP.
 */
function createListener(tls: TlsCredentials | null, onConnection: (socket: Socket) => void): TcpServer {
  if (!tls) return createServer(onConnection);
  return createTlsServer(
    { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
    onConnection,
  );
}

function listen(server: TcpServer, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, backlog: MQTT_LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

/** MQTT over WebSocket: upgrades on `/mqtt` become duplex streams handed to aedes. */
function attachWebSocket(httpServer: HttpServer, aedes: Aedes, maxPayload: number) {
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WEBSOCKET_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (websocket) => {
      const stream = createWebSocketStream(websocket);
      // A stream error (bad frame, reset) is the client's problem, not the broker's.
      stream.on('error', () => stream.destroy());
      aedes.handle(stream, req);
      guardPacketSize(stream, PACKET_SIZE_LIMITS);
    });
  };
  httpServer.on('upgrade', onUpgrade);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        httpServer.off('upgrade', onUpgrade);
        wss.close(() => resolve());
      }),
  };
}

/** The error a connection is destroyed with when it announces a packet over its limit. */
export class PacketTooLarge extends Error {
  constructor(length: number, limit: number) {
    super(`MQTT packet of ${length} bytes refused: the limit is ${limit}`);
    this.name = 'PacketTooLarge';
  }
}

/**
 * Follows the MQTT fixed headers of what a connection sends and destroys it, with an error aedes
 * reports as a connection error, at the first packet announcing more than its limit (`first` for
 * the opening packet, `rest` after). Attached after aedes' own 'readable' listener, so it sees
 * each chunk aedes reads and never changes the flow: bytes aedes has not read stay in the socket.
 */
export function guardPacketSize(conn: Duplex, limits: { first: number; rest: number }): void {
  let limit = limits.first;
  let body = 0; // bytes of the current packet's body still to come
  let lengthBytes = -1; // -1: a packet type byte is next; else remaining-length bytes read so far
  let length = 0;
  const onData = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (body > 0) {
        const skipped = Math.min(body, chunk.length - at);
        body -= skipped;
        at += skipped;
      } else if (lengthBytes < 0) {
        lengthBytes = 0;
        length = 0;
        at += 1;
      } else {
        const byte = chunk[at++];
        length += (byte & 0x7f) * 128 ** lengthBytes++;
        // A fifth length byte is malformed; aedes' parser refuses it on its own.
        if (byte & 0x80 && lengthBytes < 4) continue;
        if (length > limit) {
          conn.off('data', onData);
          conn.destroy(new PacketTooLarge(length, limit));
          return;
        }
        body = length;
        lengthBytes = -1;
        limit = limits.rest;
      }
    }
  };
  conn.on('data', onData);
}
