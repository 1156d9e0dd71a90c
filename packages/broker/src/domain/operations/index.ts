/**
 * Pure domain operations: `(topology, ctx, ...args) => Changeset`. Each validates the request
 * against the topology, throws a SagError with no partial effect, and never mutates its input.
 */
export {
  addAclRule,
  type CreateAclInput,
  createAcl,
  deleteAcl,
  removeAclRule,
  updateAclRule,
} from './acl.js';
export {
  type BindCcnGatewayInput,
  bindCcnGateway,
  type CreateCcnInput,
  createCcn,
  deleteCcn,
  unbindCcnGateway,
} from './ccn.js';
export {
  type AttachToCenInput,
  attachToCen,
  type BandwidthPackageInput,
  type CreateCenInput,
  createCen,
  deleteCen,
  detachFromCen,
  MAX_PACKAGE_MBPS,
  setBandwidthPackages,
} from './cen.js';
export {
  type BindDeviceInput,
  bindDevice,
  unbindDevice,
  validatePublicKey,
  validateSerialNumber,
} from './device.js';
export {
  activateGateway,
  type CreateGatewayInput,
  createGateway,
  deleteGateway,
  type RenewGatewayInput,
  renewGateway,
  type UpdateGatewayInput,
  updateGateway,
} from './gateway.js';
export { findEntity, KIND_WORDS } from './lookup.js';
export {
  removeGatewayAcl,
  type SetGatewayAclInput,
  type SetNetworkInput,
  setGatewayAcl,
  setNetwork,
  setPorts,
} from './network.js';
export {
  addSecurityGroupRule,
  type CreateSecurityGroupInput,
  createSecurityGroup,
  deleteSecurityGroup,
  removeSecurityGroupRule,
} from './securityGroup.js';
export {
  type CreateInstanceInput,
  type CreateVpcInput,
  createInstance,
  createVpc,
  deleteInstance,
  deleteVpc,
  MAX_GROUPS_PER_INSTANCE,
  MAX_VPC_BLOCKS,
} from './vpc.js';
