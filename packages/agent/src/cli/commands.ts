import { startAgent } from '../agent.js';
import { readStatus } from '../agentStatus.js';
import { DEFAULT_EDGE_LISTEN, dataPlaneChoiceProblem } from '../dataplane/open.js';
import { initIdentity } from '../identity/identity.js';
import { EXIT } from './exit.js';
import { jsonLineLog } from './log.js';
import type { CliIo } from './main.js';
import {
  loadConfigFile,
  requireSetting,
  resolveSetting,
  SettingError,
  type SettingSources,
} from './settings.js';
import { formatStatus } from './statusTable.js';

type Flags = SettingSources['flags'];

export async function initCommand(flags: Flags, io: CliIo): Promise<number> {
  const sources = { flags, env: io.env, file: loadConfigFile(flags, io.env, ['stateDir']) };
  const serial = flags.serial;
  if (typeof serial !== 'string') throw new SettingError('init: --serial is required');
  const stateDir = requireSetting(sources, 'stateDir');
  const identity = await initIdentity(stateDir, serial, { force: flags.force === true });
  io.stdout(`${JSON.stringify({ serialNumber: identity.serialNumber, publicKey: identity.publicKey })}\n`);
  return EXIT.ok;
}

export async function runCommand(flags: Flags, io: CliIo): Promise<number> {
  const file = loadConfigFile(flags, io.env, [
    'stateDir',
    'broker',
    'ca',
    'dataplane',
    'role',
    'listen',
    'keepalive',
    'reportInterval',
    'logLevel',
  ]);
  const sources = { flags, env: io.env, file };
  // Every setting is checked before anything starts, so a typo never half-starts the agent.
  const stateDir = requireSetting(sources, 'stateDir');
  const brokerUrl = requireSetting(sources, 'broker');
  const ca = resolveSetting(sources, 'ca');
  const dataplane = resolveSetting(sources, 'dataplane', 'emulated');
  const role = resolveSetting(sources, 'role', 'branch') ?? 'branch';
  const listen = resolveSetting(sources, 'listen');
  const choiceProblem = dataPlaneChoiceProblem(dataplane ?? 'emulated', role, listen);
  if (choiceProblem) throw new SettingError(choiceProblem);
  const keepaliveSeconds = resolveSetting(sources, 'keepalive', 30);
  const reportSeconds = resolveSetting(sources, 'reportInterval', 10);
  const logLevel = resolveSetting(sources, 'logLevel', 'info');
  const log = jsonLineLog(io.stderr, logLevel ?? 'info');

  let rebootRequested!: () => void;
  const reboot = new Promise<string>((resolve) => {
    rebootRequested = () => resolve('reboot');
  });
  const agent = await startAgent({
    stateDir,
    brokerUrl,
    ...(ca !== undefined ? { ca } : {}),
    dataplane,
    role,
    ...(role === 'edge' ? { listen: listen ?? DEFAULT_EDGE_LISTEN } : {}),
    keepaliveSeconds,
    reportIntervalMs: (reportSeconds ?? 10) * 1000,
    log,
    onReboot: rebootRequested,
  });
  log.info('agent started', {
    serialNumber: agent.serialNumber,
    broker: brokerUrl,
    dataplane,
    role,
    ...(agent.responder ? { listen: `${agent.responder.address.host}:${agent.responder.address.port}` } : {}),
    ...(agent.dataPlane.tunnelPublicKey ? { tunnelPublicKey: agent.dataPlane.tunnelPublicKey } : {}),
  });
  const reason = await Promise.race([io.stopRequested, reboot]);
  log.info('stopping', { reason });
  await agent.close();
  return reason === 'reboot' ? EXIT.restart : EXIT.ok;
}

export async function statusCommand(flags: Flags, io: CliIo): Promise<number> {
  const sources = { flags, env: io.env, file: loadConfigFile(flags, io.env, ['stateDir']) };
  const stateDir = requireSetting(sources, 'stateDir');
  const read = await readStatus(stateDir);
  if ('error' in read) {
    io.stderr(`sag-agent: ${read.error}\n`);
    return EXIT.failed;
  }
  io.stdout(flags.json ? `${JSON.stringify(read.status, null, 2)}\n` : formatStatus(read.status));
  return EXIT.ok;
}
