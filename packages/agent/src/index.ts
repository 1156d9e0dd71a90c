// The agent's public API: what the CLI, the simulator and end-to-end tests build on.
export { type Agent, type AgentOptions, startAgent } from './agent.js';
export {
  type AgentStatus,
  type EdgeStatus,
  readStatus,
  STATUS_FILE,
  type StatusTunnel,
} from './agentStatus.js';
export { type ApplierOptions, type ApplyOutcome, type BootOutcome, ConfigApplier } from './apply/applier.js';
export {
  LAST_KNOWN_GOOD_FILE,
  type LoadedLastKnownGood,
  loadLastKnownGood,
  saveLastKnownGood,
} from './apply/lastKnownGood.js';
export {
  type AclRule,
  type DeviceConfig,
  type DeviceConfigRules,
  type DevicePorts,
  type EdgeSettings,
  KEEPALIVE_LIMITS,
  type KeepaliveSettings,
  type LanPortConfig,
  parseHostPort,
  type RouteEntry,
  type TunnelConfig,
  validateDeviceConfig,
  type WanPortConfig,
} from './config.js';
export type {
  DataPlane,
  DataPlaneState,
  LinkStatus,
  PathProbe,
  PathProbeResult,
  PortState,
  RouteKind,
  RouteState,
  TunnelLinkState,
  TunnelState,
} from './dataplane/dataplane.js';
export { type EdgeConfig, validateEdgeConfig, validateEdgeSettings } from './dataplane/edge/edgeConfig.js';
export { EdgeDataPlane, type EdgeDataPlaneOptions } from './dataplane/edge/edgeDataPlane.js';
export {
  EdgeRoleDataPlane,
  type EdgeRoleDataPlaneOptions,
  type EdgeState,
} from './dataplane/edge/edgeRole.js';
export { resolveEdge, type UnreachedVpc } from './dataplane/edge/vpcInterfaces.js';
export { EmulatedDataPlane } from './dataplane/emulated/emulatedDataPlane.js';
export { type Route, RoutingTable } from './dataplane/emulated/routingTable.js';
export { LinuxDataPlane, type LinuxDataPlaneOptions } from './dataplane/linux/linuxDataPlane.js';
export { DEFAULT_EDGE_LISTEN, openDataPlane } from './dataplane/open.js';
export { diffState } from './dataplane/verify.js';
export { AGENT_ERROR_CODES, AgentError, type AgentErrorCode, isAgentError } from './errors.js';
export {
  type DeviceIdentity,
  IDENTITY_FILE,
  type InitIdentityOptions,
  initIdentity,
  loadIdentity,
  PRIVATE_KEY_FILE,
  type PublicIdentity,
} from './identity/identity.js';
export { serialNumberProblem } from './identity/serialNumber.js';
export { type Clock, realClock, type TimerHandle } from './keepalive/clock.js';
export { FakeClock } from './keepalive/fakeClock.js';
export { FakeProbeTransport } from './keepalive/fakeTransport.js';
export {
  type ProbeResponder,
  type ProbeResponderOptions,
  startProbeResponder,
} from './keepalive/probeResponder.js';
export type { OutgoingProbe, ProbeReplyReceived, ProbeTransport } from './keepalive/transport.js';
export {
  type TunnelEvent,
  type TunnelEventKind,
  TunnelMonitor,
  type TunnelMonitorOptions,
  type TunnelStats,
} from './keepalive/tunnelMonitor.js';
export { UdpProbeTransport, type UdpProbeTransportOptions } from './keepalive/udpTransport.js';
export { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './session/backoff.js';
export { deviceConfigFromDesired } from './session/desiredConfig.js';
export {
  type BrokerConnection,
  type ConnectionState,
  DeviceSession,
  type DeviceSessionOptions,
  SESSION_DEFAULTS,
} from './session/deviceSession.js';
export { type AgentLog, type LogLevel, silentLog } from './session/log.js';
