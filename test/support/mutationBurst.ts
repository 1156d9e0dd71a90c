import { seededRandom } from '../../packages/agent/src/testing/seededRandom.js';
import type { api } from './processes.js';

/**
 * A burst of concurrent API mutations (gateways, CCNs, VPCs, ACLs and their rules) and the ledger
 * that says what must survive it. Each lane is one HTTP client working sequentially on objects
 * of its own, so the expected state is exact: an answered mutation's effect is known, and each
 * lane has at most one mutation in flight when the broker dies, whose effect may be whole or absent.
 */

export type Call = ReturnType<typeof api>;
export type Kind = 'gateway' | 'ccn' | 'vpc' | 'acl';
type View = Record<string, unknown>;

/** An object as the ledger expects it: only the fields the burst sets. */
export interface Expected {
  kind: Kind;
  lane: number;
  view: View;
}

/** A state of the objects one mutation touches; null: absent. */
type Effect = Map<string, Expected | null>;

/** A mutation sent without an answer: after a restart its effect is all there or not at all. */
interface Pending {
  label: string;
  before: Effect;
  after: Effect;
  /** A create: its id was never answered, so it is found by its (unique) name. */
  created?: Expected;
}

export interface BurstStats {
  acknowledged: number;
  unanswered: number;
  /** Answered 4xx/5xx: the ledger's own model was wrong, or the broker failed. */
  refused: string[];
}

export const COLLECTIONS: Record<Kind, string> = {
  gateway: '/v1/gateways',
  ccn: '/v1/ccns',
  vpc: '/v1/vpcs',
  acl: '/v1/acls',
};

/** Broker config for a burst: room for every lane's objects and requests. */
export const BURST_BROKER_CONFIG = {
  quotas: { gateways: 5000, ccns: 1000, acls: 1000 },
  rateLimitPerMinute: 10_000_000,
};

const VIEW_FIELDS: Record<Kind, string[]> = {
  gateway: ['name', 'bandwidthMbps', 'description', 'privateCidrs', 'ccnId', 'aclId'],
  ccn: ['name', 'gatewayIds'],
  vpc: ['name', 'region', 'cidrBlocks'],
  acl: ['name', 'rules'],
};
const RULE_FIELDS = ['id', 'direction', 'policy', 'priority', 'protocol', 'destCidr', 'destPortRange'];
/** Stands for the id of a rule added without an answer. */
const ANY_ID = '?';

/** The fields the ledger checks, from an API answer. */
export function viewOf(kind: Kind, body: Record<string, unknown>): View {
  const view: View = {};
  for (const field of VIEW_FIELDS[kind]) view[field] = body[field] ?? null;
  if (kind === 'ccn') view.gatewayIds = [...(body.gatewayIds as string[])].sort();
  if (kind === 'acl') {
    view.rules = (body.rules as Record<string, unknown>[]).map((rule) =>
      Object.fromEntries(RULE_FIELDS.map((field) => [field, rule[field]])),
    );
  }
  return view;
}

export class Ledger {
  readonly objects = new Map<string, Expected>();
  readonly deleted = new Map<string, Kind>();
  pending: Pending[] = [];
  private blocks = 0;

  owned(lane: number, kind: Kind): [string, Expected][] {
    return [...this.objects].filter(([, o]) => o.lane === lane && o.kind === kind);
  }

  /** A /24 no other block of the burst uses, so a network change never conflicts. */
  freshBlock(): string {
    const n = this.blocks++;
    return `10.${(n >> 8) & 255}.${n & 255}.0/24`;
  }

  apply(effect: Effect): void {
    for (const [id, state] of effect) {
      if (state) {
        this.objects.set(id, state);
        this.deleted.delete(id);
      } else {
        const gone = this.objects.get(id);
        this.objects.delete(id);
        if (gone) this.deleted.set(id, gone.kind);
      }
    }
  }
}

/** One mutation: the request, and its effect given the answer's body. */
interface Mutation {
  label: string;
  method: string;
  path: string;
  body?: unknown;
  /** The effect for an answered body; with no answer, `effect(undefined)` is what it would be. */
  effect(answer: Record<string, unknown> | undefined): Effect;
  created?: Expected;
}

type Rng = () => number;

const pickOne = <T>(rng: Rng, items: T[]): T | undefined => items[Math.floor(rng() * items.length)];
const expected = (kind: Kind, lane: number, view: View): Expected => ({ kind, lane, view });
const withView = (object: Expected, changes: View): Expected => ({
  ...object,
  view: { ...object.view, ...changes },
});

/** Every mutation a lane could make now, for its own objects; the caller picks one. */
function candidates(ledger: Ledger, lane: number, tag: string, rng: Rng): Mutation[] {
  const gateways = ledger.owned(lane, 'gateway');
  const ccns = ledger.owned(lane, 'ccn');
  const vpcs = ledger.owned(lane, 'vpc');
  const acls = ledger.owned(lane, 'acl');
  const options: Mutation[] = [];
  const create = (kind: Kind, body: View, view: View): Mutation => {
    const created = expected(kind, lane, view);
    return {
      label: `create ${kind} "${body.name}"`,
      method: 'POST',
      path: COLLECTIONS[kind],
      body,
      created,
      effect: (answer) => (answer ? new Map([[answer.id as string, created]]) : new Map()),
    };
  };
  const remove = (kind: Kind, [id]: [string, Expected]): Mutation => ({
    label: `delete ${id}`,
    method: 'DELETE',
    path: `${COLLECTIONS[kind]}/${id}`,
    effect: () => new Map([[id, null]]),
  });
  const bandwidthMbps = 2 + Math.floor(rng() * 49);

  if (gateways.length < 8) {
    const name = `Gw ${tag}`;
    const body = { name, area: 'china-mainland', spec: 'sag-100wm', bandwidthMbps, subscriptionMonths: 1 };
    const view = {
      name,
      bandwidthMbps,
      description: `ordered ${tag}`,
      privateCidrs: [],
      ccnId: null,
      aclId: null,
    };
    options.push(create('gateway', { ...body, description: view.description }, view));
  }
  const gateway = pickOne(rng, gateways);
  if (gateway) {
    const [id, object] = gateway;
    const changes = { name: `Gw ${tag} renamed`, bandwidthMbps, description: `patched ${tag}` };
    options.push({
      label: `patch ${id}`,
      method: 'PATCH',
      path: `/v1/gateways/${id}`,
      body: changes,
      effect: () => new Map([[id, withView(object, changes)]]),
    });
    const ccnId = object.view.ccnId as string | null;
    const ccn = ccnId ? ledger.objects.get(ccnId) : pickOne(rng, ccns)?.[1];
    if (ccnId && ccn) {
      const gatewayIds = (ccn.view.gatewayIds as string[]).filter((g) => g !== id);
      options.push({
        label: `unbind ${id} from ${ccnId}`,
        method: 'DELETE',
        path: `/v1/ccns/${ccnId}/gateways/${id}`,
        effect: () =>
          new Map([
            [id, withView(object, { ccnId: null })],
            [ccnId, withView(ccn, { gatewayIds })],
          ]),
      });
    } else if (!ccnId) {
      options.push(remove('gateway', gateway));
      const target = pickOne(rng, ccns);
      if (target) {
        const privateCidrs = [ledger.freshBlock()];
        const [targetId, targetCcn] = target;
        const gatewayIds = [...(targetCcn.view.gatewayIds as string[]), id].sort();
        options.push({
          label: `network of ${id} into ${targetId}`,
          method: 'PUT',
          path: `/v1/gateways/${id}/network`,
          body: { privateCidrs, ccnId: targetId },
          effect: () =>
            new Map([
              [id, withView(object, { privateCidrs, ccnId: targetId })],
              [targetId, withView(targetCcn, { gatewayIds })],
            ]),
        });
      }
    }
    const acl = pickOne(rng, acls);
    if (acl && acl[0] !== object.view.aclId) {
      options.push({
        label: `acl of ${id} to ${acl[0]}`,
        method: 'PUT',
        path: `/v1/gateways/${id}/acl`,
        body: { aclId: acl[0] },
        effect: () => new Map([[id, withView(object, { aclId: acl[0] })]]),
      });
    }
  }
  if (ccns.length < 2) {
    const name = `Ccn ${tag}`;
    options.push(create('ccn', { name, area: 'china-mainland' }, { name, gatewayIds: [] }));
  }
  const emptyCcn = pickOne(
    rng,
    ccns.filter(([, c]) => (c.view.gatewayIds as string[]).length === 0),
  );
  if (emptyCcn) options.push(remove('ccn', emptyCcn));
  if (vpcs.length < 3) {
    const view = { name: `Vpc ${tag}`, region: 'cn-beijing', cidrBlocks: [ledger.freshBlock()] };
    options.push(create('vpc', view, view));
  }
  const vpc = pickOne(rng, vpcs);
  if (vpc) options.push(remove('vpc', vpc));
  if (acls.length < 2) {
    const name = `Acl ${tag}`;
    options.push(create('acl', { name }, { name, rules: [] }));
  }
  const acl = pickOne(rng, acls);
  if (acl) options.push(...ruleMutations(ledger, acl, rng));
  return options;
}

function ruleMutations(ledger: Ledger, [aclId, acl]: [string, Expected], rng: Rng): Mutation[] {
  const rules = acl.view.rules as View[];
  const options: Mutation[] = [];
  const port = 1 + Math.floor(rng() * 65000);
  const priority = 1 + Math.floor(rng() * 100);
  if (rules.length < 10) {
    const rule = {
      direction: 'in',
      policy: rng() < 0.5 ? 'accept' : 'drop',
      priority,
      protocol: 'tcp',
      sourceCidr: '0.0.0.0/0',
      sourcePortRange: '-1/-1',
      destCidr: ledger.freshBlock(),
      destPortRange: `${port}/${port}`,
    };
    options.push({
      label: `add rule to ${aclId}`,
      method: 'POST',
      path: `/v1/acls/${aclId}/rules`,
      body: rule,
      effect: (answer) => {
        const added = Object.fromEntries(
          RULE_FIELDS.map((f) => [f, f === 'id' ? (answer?.id ?? ANY_ID) : rule[f as keyof typeof rule]]),
        );
        return new Map([[aclId, withView(acl, { rules: [...rules, added] })]]);
      },
    });
  }
  const rule = pickOne(rng, rules);
  if (rule) {
    const changes = { priority, destPortRange: `${port}/${port}` };
    options.push({
      label: `patch rule ${rule.id} of ${aclId}`,
      method: 'PATCH',
      path: `/v1/acls/${aclId}/rules/${rule.id}`,
      body: changes,
      effect: () =>
        new Map([
          [aclId, withView(acl, { rules: rules.map((r) => (r === rule ? { ...r, ...changes } : r)) })],
        ]),
    });
    options.push({
      label: `delete rule ${rule.id} of ${aclId}`,
      method: 'DELETE',
      path: `/v1/acls/${aclId}/rules/${rule.id}`,
      effect: () => new Map([[aclId, withView(acl, { rules: rules.filter((r) => r !== rule) })]]),
    });
  }
  const inUse = [...ledger.objects.values()].some((o) => o.kind === 'gateway' && o.view.aclId === aclId);
  if (!inUse) {
    options.push({
      label: `delete ${aclId}`,
      method: 'DELETE',
      path: `/v1/acls/${aclId}`,
      effect: () => new Map([[aclId, null]]),
    });
  }
  return options;
}

export interface BurstOptions {
  lanes: number;
  /** Names the objects this burst creates (unique across rounds). */
  round: number;
  seed: number;
  /** Each lane stops when this turns true, or at its first request without an answer. */
  stopped: () => boolean;
  /** Called at each acknowledged mutation, so a caller can tell what was answered when. */
  onAcknowledged?: () => void;
}

/** Runs the lanes until stopped or the broker stops answering; the ledger records every outcome. */
export async function runBurst(call: Call, ledger: Ledger, options: BurstOptions): Promise<BurstStats> {
  const stats: BurstStats = { acknowledged: 0, unanswered: 0, refused: [] };
  const lane = async (index: number) => {
    const rng = seededRandom(options.seed * 1000 + index);
    for (let n = 0; !options.stopped(); n++) {
      const mutation = pickOne(rng, candidates(ledger, index, `r${options.round} l${index} n${n}`, rng));
      if (!mutation) return;
      const before: Effect = new Map();
      for (const id of mutation.effect(undefined).keys()) before.set(id, ledger.objects.get(id) ?? null);
      let answer: Awaited<ReturnType<Call>>;
      try {
        answer = await call(mutation.method, mutation.path, mutation.body);
      } catch {
        stats.unanswered++;
        ledger.pending.push({
          label: mutation.label,
          before,
          after: mutation.effect(undefined),
          created: mutation.created,
        });
        return;
      }
      if (answer.status >= 200 && answer.status < 300) {
        stats.acknowledged++;
        ledger.apply(mutation.effect(answer.body ?? undefined));
        options.onAcknowledged?.();
      } else {
        stats.refused.push(`${mutation.label}: ${answer.status} ${JSON.stringify(answer.body?.error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, index) => lane(index)));
  return stats;
}
