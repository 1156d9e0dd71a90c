import type { EdgeSettings } from '@opensag/proto';
import { validateEdgeSettings } from './dataplane/edge/edgeConfig.js';
import { isRecord } from './ports/validatePorts.js';

export type { EdgeSettings } from '@opensag/proto';

/** The fields of each edge list entry that must be text (t) or lists of text (l). */
const SHAPES = {
  peers: { gatewayId: 't', publicKey: 't', allowedIps: 'l' },
  vpcs: { vpcId: 't', cidrBlocks: 'l' },
  instances: { instanceId: 't', privateIp: 't', securityGroupIds: 'l' },
  securityGroups: { id: 't' },
} as const;

const RULE_TEXT = ['id', 'direction', 'policy', 'protocol', 'portRange', 'cidr'] as const;

const isTextList = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Shape problems (wrong types) of an edge section read off the wire or from disk. */
function shapeProblems(edge: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof edge.listenPort !== 'number') errors.push('edge.listenPort: not a number');
  if (edge.routeSets !== undefined) {
    if (!Array.isArray(edge.routeSets)) errors.push('edge.routeSets: not a list');
    else
      edge.routeSets.forEach((set, i) => {
        if (!isRecord(set) || typeof set.id !== 'string' || !isTextList(set.destinations))
          errors.push(`edge.routeSets[${i}]: not {id, destinations: [text]}`);
      });
  }
  for (const [list, fields] of Object.entries(SHAPES)) {
    const entries = edge[list];
    if (!Array.isArray(entries)) {
      errors.push(`edge.${list}: not a list`);
      continue;
    }
    entries.forEach((entry, i) => {
      const at = `edge.${list}[${i}]`;
      if (!isRecord(entry)) {
        errors.push(`${at}: not an object`);
        return;
      }
      for (const [field, kind] of Object.entries(fields)) {
        const ok = kind === 't' ? typeof entry[field] === 'string' : isTextList(entry[field]);
        if (!ok) errors.push(`${at}.${field}: ${kind === 't' ? 'not text' : 'not a list of text'}`);
      }
      if (list === 'securityGroups') errors.push(...ruleShapeProblems(entry.rules, `${at}.rules`));
      if (list === 'peers' && entry.routeSet !== undefined && typeof entry.routeSet !== 'string')
        errors.push(`${at}.routeSet: not text`);
    });
  }
  return errors;
}

function ruleShapeProblems(rules: unknown, at: string): string[] {
  if (!Array.isArray(rules)) return [`${at}: not a list`];
  const errors: string[] = [];
  rules.forEach((rule, r) => {
    if (!isRecord(rule)) errors.push(`${at}[${r}]: not an object`);
    else {
      for (const field of RULE_TEXT)
        if (typeof rule[field] !== 'string') errors.push(`${at}[${r}].${field}: not text`);
      if (typeof rule.priority !== 'number') errors.push(`${at}[${r}].priority: not a number`);
    }
  });
  return errors;
}

/**
 * Appends every problem with a config's `edge` section: its shape, then the access point's rules
 * (peer keys and blocks, VPC blocks, instances, security groups). `probePort`, when known, is the
 * port this access point answers probes on; gateways dial its WireGuard at that port + 1.
 */
export function validateEdgeSection(edge: unknown, probePort: number | undefined, errors: string[]): void {
  if (!isRecord(edge)) {
    errors.push('edge: not an object');
    return;
  }
  const shape = shapeProblems(edge);
  if (shape.length > 0) {
    errors.push(...shape);
    return;
  }
  const settings = edge as unknown as EdgeSettings;
  for (const problem of validateEdgeSettings(settings)) errors.push(`edge.${problem}`);
  if (probePort !== undefined && settings.listenPort !== probePort + 1) {
    errors.push(
      `edge.listenPort ${settings.listenPort} is not ${probePort + 1}: this access point answers probes on port ${probePort}, and gateways dial its WireGuard at the probe port + 1`,
    );
  }
}
