import { SETTINGS } from './settings.js';

const s = SETTINGS;

export const MAIN_HELP = `sag-agent: the OpenSAG gateway agent

Usage:
  sag-agent init   --serial SN --state-dir DIR [--force]   make the device identity (flashing)
  sag-agent run    --state-dir DIR --broker URL [options]   run the device agent
  sag-agent status --state-dir DIR [--json]                 what the device has applied
  sag-agent simulate --count N --broker URL --state-dir DIR  N emulated gateways, for load tests
  sag-agent simulate provision --count N --state-dir DIR --api URL --token T
                                                            create, bind and activate their gateways

Every command takes --help; sag-agent --version prints the version. Settings come from flags, then SAG_* environment variables, then a
JSON config file (--config FILE or SAG_CONFIG).
`;

export const INIT_HELP = `Usage: sag-agent init --serial SN --state-dir DIR [--force]

Creates an Ed25519 key pair for the device in DIR (private key mode 0600, never leaves the box)
and prints {"serialNumber","publicKey"} as JSON: bind those to a gateway with the API.

  --serial SN        serial number: 2-64 letters, digits, _ or -, starting with a letter or digit
  --state-dir DIR    ${s.stateDir.env}; created with mode 0700 if missing
  --force            replace an existing identity (the gateway must then be re-bound)
  --config FILE      SAG_CONFIG; JSON object with key stateDir
  --help             this text
`;

export const RUN_HELP = `Usage: sag-agent run --state-dir DIR --broker URL [options]

Applies the last-known-good config from DIR at once, then connects to the broker, applies the
configs it pushes, watches the tunnels and reports. Keeps working while the broker is away.

  --state-dir DIR         ${s.stateDir.env}; made by sag-agent init
  --broker URL            ${s.broker.env}; ${s.broker.accepts}
  --ca FILE               ${s.ca.env}; ${s.ca.accepts} trusted for an mqtts:// or wss://
                          broker instead of the system's (a private CA); the broker's
                          certificate and name are always checked
  --dataplane NAME        ${s.dataplane.env}; accepted: ${s.dataplane.accepts} (default emulated)
                          emulated: an in-memory model; linux: WireGuard, routes, nftables and
                          dnsmasq in the network namespace the agent runs in (needs root)
  --role NAME             ${s.role.env}; accepted: ${s.role.accepts} (default branch)
                          branch: a gateway; edge: an access point that terminates the gateways'
                          tunnels and guards VPC instances (needs --dataplane linux)
  --listen HOST:PORT      ${s.listen.env}; edge role only: where keepalive probes are answered,
                          ${s.listen.accepts} (default 0.0.0.0:51820); WireGuard listens on PORT + 1
  --keepalive SECONDS     ${s.keepalive.env}; MQTT keepalive, ${s.keepalive.accepts} (default 30)
  --report-interval SECONDS
                          ${s.reportInterval.env}; how often figures are reported, ${s.reportInterval.accepts} (default 10)
  --log-level LEVEL       ${s.logLevel.env}; ${s.logLevel.accepts} (default info)
  --config FILE           SAG_CONFIG; JSON object with keys stateDir, broker, ca, dataplane, role,
                          listen, keepalive, reportInterval, logLevel (flags and environment win)
  --help                  this text

Logs are JSON lines on standard error. SIGINT and SIGTERM stop the agent cleanly (exit 0); the
linux data plane's tunnels, routes and firewall stay in place, so traffic keeps flowing until the
agent is back. When the broker sends a reboot command the agent stops and exits with status 75,
so a supervisor (systemd Restart=on-failure, a container restart policy) starts it again.
A bad setting stops the agent with one line naming it (exit 2).
`;

export const STATUS_HELP = `Usage: sag-agent status --state-dir DIR [--json]

Shows what the device has applied, as the running agent last wrote it (status.json in DIR):
revision and hash, ports, routes, ACL rules, tunnels and the broker connection; for an access
point (edge role), its probe responder, the gateways (peers), VPCs and instances it serves.

  --state-dir DIR    ${s.stateDir.env}
  --json             print status.json as it is, for scripts
  --config FILE      SAG_CONFIG; JSON object with key stateDir
  --help             this text
`;
