import type { TopLevel } from '../command.js';
import { accessPointGroup } from './accessPoints.js';
import { accessTestCommand } from './accessTests.js';
import { aclGroup } from './acls.js';
import { areasCommand } from './areas.js';
import { ccnGroup } from './ccns.js';
import { cenGroup } from './cens.js';
import { eventsCommand } from './events.js';
import { gatewaySettingCommands } from './gatewaySettings.js';
import { gatewayLifecycleCommands } from './gateways.js';
import { instanceGroup } from './instances.js';
import { securityGroupGroup } from './securityGroups.js';
import { vpcGroup } from './vpcs.js';

/** Every command, in the order of the tutorial: buy and connect gateways, build the network, test. */
export const COMMANDS: TopLevel[] = [
  {
    name: 'gateway',
    summary: 'gateway instances: order, bind the device, activate, ports, network, ACL, status',
    commands: [...gatewayLifecycleCommands, ...gatewaySettingCommands],
  },
  ccnGroup,
  cenGroup,
  vpcGroup,
  instanceGroup,
  securityGroupGroup,
  aclGroup,
  accessTestCommand,
  eventsCommand,
  accessPointGroup,
  areasCommand,
];
