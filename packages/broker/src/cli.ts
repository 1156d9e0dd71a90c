#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATABASE_FILE, startBroker } from './broker.js';
import { ConfigError, loadConfig } from './config.js';
import { isSagError } from './errors.js';
import { backupDatabase } from './store/backup.js';

const HELP = `sag-broker — the OpenSAG control plane (HTTP API, device MQTT broker, store)

Usage: sag-broker [options]
       sag-broker backup --out FILE [--data-dir DIR] [--config FILE] [--json]

Options (flag, then environment, then config file key):
  --data-dir DIR         SAG_DATA_DIR       dataDir       SQLite database and API token   [./data]
  --http HOST:PORT       SAG_HTTP           http          HTTP API, /docs, /metrics      [127.0.0.1:8080]
  --mqtt HOST:PORT       SAG_MQTT           mqtt          device MQTT listener            [127.0.0.1:1883]
  --access-point H:P     SAG_ACCESS_POINT   accessPoint   embedded access point (UDP)     [127.0.0.1:51821]
  --enabled-areas LIST   SAG_ENABLED_AREAS  enabledAreas  areas accepting gateways        [china-mainland]
  --log-level LEVEL      SAG_LOG_LEVEL      logLevel      pino level                      [info]
  --rate-limit N         SAG_RATE_LIMIT     rateLimitPerMinute  /v1 requests per minute
                                                          per client address              [60000]
  --tls-cert FILE        SAG_TLS_CERT       tls.cert      PEM certificate (chain) of the broker
  --tls-key FILE         SAG_TLS_KEY        tls.key       PEM private key of that certificate
                                                          With both, MQTT on --mqtt is MQTT over TLS
                                                          (mqtts://) and --http serves HTTPS (so
                                                          wss://HOST:PORT/mqtt); TLS 1.2 at least.
                                                          Read at start: restart to rotate them.
                                                          Without them all is plain text (a warning
                                                          when a listener is not on loopback)
  --config FILE          SAG_CONFIG                       JSON config file
                         SAG_API_TOKEN                    operator bearer token (>= 16 chars); without it a
                                                          token is generated on first start, stored in
                                                          DIR/api-token (mode 0600) and printed once
  -h, --help                                              show this help

The config file may also set quotas {gateways, ccns, acls, rulesPerAcl, privateCidrsPerGateway,
rulesPerSecurityGroup}, keepalive {intervalMs, multiplier, lossWindow, holdDownMs} and
accessPoints [{id, address, publicKey?, serialNumber?, identityKey?}]: with serialNumber and
identityKey (what \`sag-agent init\` printed on the edge) an access point is run by an edge agent
(sag-agent run --role edge); the first two listed are then every gateway's active and standby
tunnels instead of the embedded access point.

sag-broker backup copies the database of a running (or stopped) broker to FILE with SQLite's
online backup, from this second process: the broker keeps serving and writing. The copy is the
state as of one committed change, checked with integrity_check, one self-contained file (mode
0600), and appears under FILE only once complete. The data directory is found as above (flag,
SAG_DATA_DIR, config file). Restore: stop the broker, replace DIR/opensag.db with the copy and
remove any opensag.db-wal and opensag.db-shm beside it, start the broker.
`;

const BACKUP_USAGE = 'sag-broker backup --out FILE [--data-dir DIR] [--config FILE] [--json]';

/** `sag-broker backup`: one line saying what was written, or JSON with --json. */
async function backup(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`Usage: ${BACKUP_USAGE}\n(see sag-broker --help)\n`);
    return;
  }
  if (!values.out) throw new ConfigError('out', `the backup file is required: ${BACKUP_USAGE}`);
  const flags: Record<string, string> = {};
  if (values['data-dir'] !== undefined) flags['data-dir'] = values['data-dir'];
  if (values.config !== undefined) flags.config = values.config;
  const { dataDir } = loadConfig(flags);
  const summary = await backupDatabase(join(dataDir, DATABASE_FILE), values.out);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const { counts } = summary;
  process.stdout.write(
    `backup of ${summary.source} written to ${summary.path}: ${summary.bytes} bytes, schema ` +
      `${summary.schemaVersion}, integrity ok; ${counts.gateways} gateways, ${counts.ccns} CCNs, ` +
      `${counts.cens} CENs, ${counts.vpcs} VPCs, ${counts.acls} ACLs, ${counts.events} events\n`,
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === 'backup') {
    try {
      await backup(process.argv.slice(3));
    } catch (err) {
      if (isSagError(err) || err instanceof ConfigError) throw err;
      // parseArgs: an unknown or malformed option
      process.stderr.write(`sag-broker backup: ${(err as Error).message}\n(usage: ${BACKUP_USAGE})\n`);
      process.exit(2);
    }
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        http: { type: 'string' },
        mqtt: { type: 'string' },
        'access-point': { type: 'string' },
        'enabled-areas': { type: 'string' },
        'log-level': { type: 'string' },
        'rate-limit': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`sag-broker: ${(err as Error).message}\n(see sag-broker --help)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const flags = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
  const config = loadConfig(flags);
  const broker = await startBroker(config);
  const ws = broker.httpUrl.replace(/^http/, 'ws');
  process.stdout.write(
    `OpenSAG broker listening\n  API:  ${broker.httpUrl}/v1\n  docs: ${broker.httpUrl}/docs\n` +
      `  MQTT: ${broker.mqttUrl} (WebSocket: ${ws}/mqtt)\n  access point: udp ${broker.accessPointAddress}\n`,
  );
  if (broker.tokenGenerated) {
    process.stdout.write(
      `  API token (stored in ${config.dataDir}/api-token, shown once): ${broker.token}\n`,
    );
  }
  const stop = async () => {
    await broker.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`sag-broker: ${err.message}\n`);
    process.exit(2);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    const { address, port } = err as { address?: string; port?: number };
    process.stderr.write(`sag-broker: cannot listen on ${address}:${port}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (isSagError(err)) {
    // A known failure (say, a database newer than this broker): its message says what to do.
    process.stderr.write(`sag-broker: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`sag-broker: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
