export { DATABASE_FILE, type RunningBroker, startBroker } from './broker.js';
export type * from './compile/types.js';
export { type BrokerConfig, ConfigError, loadConfig } from './config.js';
export {
  type CompiledConfigView,
  ControlPlane,
  type GatewayStatus,
  type GatewayView,
} from './controlPlane.js';
export type * from './domain/types.js';
export { ERROR_CODES, type ErrorCode, isSagError, SagError } from './errors.js';
