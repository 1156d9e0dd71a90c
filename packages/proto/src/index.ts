// The device protocol's public API: what the broker and the agent code against.
export * from './acl.js';
export { canonicalJson } from './canonicalJson.js';
export {
  decodeAck,
  decodeCommand,
  decodeDesiredConfig,
  decodeEvent,
  decodeHello,
  decodePresence,
  decodeProbeResult,
  decodeReport,
  encodeAck,
  encodeCommand,
  encodeDesiredConfig,
  encodeEvent,
  encodeHello,
  encodePresence,
  encodeProbeResult,
  encodeReport,
} from './codec.js';
export type {
  EdgeInstanceConfig,
  EdgePeerConfig,
  EdgeRouteSetConfig,
  EdgeSecurityGroupConfig,
  EdgeSecurityGroupRuleConfig,
  EdgeSettings,
  EdgeVpcConfig,
  KeepaliveSettings,
  RouteEntry,
  TunnelConfig,
} from './deviceConfig.js';
export { isProtocolError, PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from './errors.js';
export * from './keepalive.js';
export * from './messages.js';
export {
  createProof,
  type DeviceIdentity,
  generateIdentity,
  type ParsedProof,
  PROOF_MAX_SKEW_MS,
  type ProofVerdict,
  parseProof,
  publicKeyFromBase64,
  verifyProof,
} from './proof.js';
export { UNTRUSTED_CERTIFICATE_CODES } from './tlsTrust.js';
export {
  CLOUD_TOPIC_KINDS,
  type CloudTopicKind,
  cloudTopic,
  DEVICE_TOPIC_KINDS,
  type DeviceTopicKind,
  deviceTopic,
  isValidSerialNumber,
  type ParsedTopic,
  parseTopic,
} from './topics.js';
export { fitString, LIMITS } from './validation.js';
