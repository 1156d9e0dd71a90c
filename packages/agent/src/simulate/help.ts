export const SIMULATE_HELP = `Usage: sag-agent simulate --count N --broker URL --state-dir DIR [options]
       sag-agent simulate provision --count N --state-dir DIR --api URL --token T [options]

Runs N emulated gateways in this one process, for load tests. Each is a whole device: its own
Ed25519 identity and CONNECT proof, its own MQTT connection, the agent's config decoding, apply
path (validate, apply, verify) on the emulated data plane, acks, tunnel events and reports.
Last-known-good is kept in memory, not written to disk per device. Keepalive probes go to an
in-memory network where every access point answers, so tunnels come up without UDP traffic.

  --count N                 how many gateways, 1-1000000 (required)
  --broker URL              SAG_BROKER; mqtt://HOST:PORT (also mqtts://, ws://, wss://)
  --ca FILE                 SAG_CA; PEM CA certificates trusted for an mqtts:// or wss://
                            broker, as for sag-agent run (an https:// --api with a private CA:
                            NODE_EXTRA_CA_CERTS=FILE)
  --state-dir DIR           SAG_STATE_DIR; holds identities.json (SIM000001, SIM000002, … and
                            their keys, made on the first run, reused after) and gateways.json
  --api URL                 with --token: provision first (as sag-agent simulate provision does,
                            32 requests in flight), then connect
  --token T                 SAG_API_TOKEN; the broker's API token (write --token=T when it
                            starts with "-")
  --area NAME               area of the gateways provisioned (default china-mainland)
  --concurrency K           CONNECTs in flight at most while the fleet comes up (default 200)
  --report-interval-ms MS   how often each device reports, 100-3600000 (default 10000)
  --keepalive SECONDS       MQTT keepalive of each device, 1-300 (default 30)
  --settle-timeout-ms MS    give the summary after this long even if not all are in sync
                            (default 120000)
  --once                    exit after the summary instead of running until SIGINT/SIGTERM
  --source-addresses LIST   connect from these addresses, round-robin, e.g.
                            127.0.0.2,127.0.0.3,127.0.0.4 (mqtt:// brokers only); needed above
                            about 28,000 connections, as one source address runs out of ephemeral
                            ports towards one broker address (see net.ipv4.ip_local_port_range)
  --udp-probes              send real UDP keepalive probes to the access points instead (one
                            socket per device: about 2N open files)
  --log-level LEVEL         SAG_LOG_LEVEL; the devices' own log, JSON lines on standard error:
                            debug|info|warn|error|silent (default error)
  --help                    this text

Progress lines ("simulate: connected n/N, in-sync n/N, failed f") go to standard error once a
second while they change. When every device has applied a config pushed by the broker, or at
the settle timeout, one JSON line goes to standard output:
  {"count","connected","inSync","failed","connectMs","elapsedMs"}
connectMs runs from the first CONNECT to the last device's first connection, elapsedMs to the
summary; failed counts devices whose last connection attempt or config push failed (one of
them is named on standard error). The devices then stay connected until SIGINT or SIGTERM.
Exit status: 0 when all were in sync at the summary, 1 otherwise or on an error.

Each connection is one open file: the simulator refuses to start when N + 100 exceeds the
open-files limit (ulimit -n); raise it first, e.g. \`ulimit -n 65536\`.
`;

export const PROVISION_HELP = `Usage: sag-agent simulate provision --count N --state-dir DIR --api URL --token T [options]

Makes or loads the N identities in DIR/identities.json and, through the HTTP API, creates a
gateway for each (POST /v1/gateways, named "Simulated SIM000001", spec sag-100wm, 2 Mbps),
binds the device to it (PUT /v1/gateways/{id}/device) and activates it
(POST /v1/gateways/{id}/activate). Writes DIR/gateways.json (serial number → gateway id); a
second run skips the devices already in it and finishes any a stopped run left half done
(DIR/gateways.pending.json).

  --count N           how many gateways, 1-1000000 (required)
  --state-dir DIR     SAG_STATE_DIR
  --api URL           the broker's HTTP API, e.g. http://127.0.0.1:8080 (required)
  --token T           SAG_API_TOKEN; the broker's API token (required; write --token=T when
                      it starts with "-")
  --area NAME         the gateways' area (default china-mainland)
  --concurrency K     API requests in flight at most (default 32); a 429 is retried after its
                      Retry-After
  --help              this text

The broker allows 500 gateways by default (quotas.gateways, docs/configuration.md): for more,
start it with a config file holding e.g. {"quotas":{"gateways":20000}}. A refusal by the quota
stops provisioning with a line naming it. Progress goes to standard error, then one JSON line
to standard output: {"count","provisioned","skipped","elapsedMs"}.
`;
