import Database from 'better-sqlite3';
import { type Call, COLLECTIONS, type Expected, type Kind, type Ledger, viewOf } from './mutationBurst.js';

/** What a check of the ledger against a (restarted) broker found. */
export interface LedgerCheck {
  /** Objects compared field by field with what the ledger expects. */
  objects: number;
  /** Deleted objects confirmed absent. */
  deleted: number;
  /** Unanswered mutations found whole, and found not applied at all. */
  pendingWhole: number;
  pendingAbsent: number;
  /** Every difference, in words; empty when the broker holds exactly what it acknowledged. */
  problems: string[];
}

type Actual = Map<string, { kind: Kind; view: Record<string, unknown> }>;

/** Every object of the burst's kinds the broker lists, by id. */
export async function listObjects(call: Call): Promise<Actual> {
  const actual: Actual = new Map();
  for (const kind of Object.keys(COLLECTIONS) as Kind[]) {
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await call('GET', `${COLLECTIONS[kind]}?limit=500${query}`);
      if (page.status !== 200) throw new Error(`GET ${COLLECTIONS[kind]} answered ${page.status}`);
      for (const item of page.body.items) actual.set(item.id, { kind, view: viewOf(kind, item) });
      cursor = page.body.nextCursor;
    } while (cursor);
  }
  return actual;
}

/** JSON with sorted keys, so views built in different orders compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Equal views; a rule id the ledger never heard (`?`, an unanswered add) matches any id. */
function sameView(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  const rules = expected.rules as Record<string, unknown>[] | undefined;
  const actualRules = actual.rules as Record<string, unknown>[] | undefined;
  if (rules && actualRules && rules.length === actualRules.length) {
    const filled = rules.map((rule, i) => (rule.id === '?' ? { ...rule, id: actualRules[i].id } : rule));
    return canonical({ ...expected, rules: filled }) === canonical(actual);
  }
  return canonical(expected) === canonical(actual);
}

function matches(state: Expected | null, found: Actual extends Map<string, infer V> ? V | undefined : never) {
  if (state === null) return found === undefined;
  return found !== undefined && found.kind === state.kind && sameView(state.view, found.view);
}

/**
 * Settles the unanswered mutations (each whole or absent, never partly applied) into the ledger,
 * then compares every object: acknowledged ones exactly as answered, deleted ones absent, and
 * nothing the burst did not make.
 */
export async function checkLedger(call: Call, ledger: Ledger): Promise<LedgerCheck> {
  const actual = await listObjects(call);
  const check: LedgerCheck = { objects: 0, deleted: 0, pendingWhole: 0, pendingAbsent: 0, problems: [] };
  for (const pending of ledger.pending.splice(0)) {
    if (pending.created) {
      const { kind, view } = pending.created;
      const found = [...actual].filter(
        ([id, o]) => o.kind === kind && o.view.name === view.name && !ledger.objects.has(id),
      );
      if (found.length === 0) check.pendingAbsent++;
      else if (found.length === 1 && sameView(view, found[0][1].view)) {
        check.pendingWhole++;
        ledger.apply(new Map([[found[0][0], { ...pending.created, view: found[0][1].view }]]));
      } else check.problems.push(`${pending.label}: found ${canonical(found)}`);
      continue;
    }
    const whole = [...pending.after].every(([id, state]) => matches(state, actual.get(id)));
    const absent = [...pending.before].every(([id, state]) => matches(state, actual.get(id)));
    if (whole) {
      check.pendingWhole++;
      const settled = new Map(
        [...pending.after].map(([id, s]) => [id, s && { ...s, view: actual.get(id)!.view }]),
      );
      ledger.apply(settled);
    } else if (absent) check.pendingAbsent++;
    else {
      const seen = [...pending.after.keys()].map((id) => `${id}=${canonical(actual.get(id) ?? null)}`);
      check.problems.push(`${pending.label} partly applied: ${seen.join(' ')}`);
    }
  }
  for (const [id, state] of ledger.objects) {
    check.objects++;
    const found = actual.get(id);
    if (!matches(state, found)) {
      check.problems.push(
        `${id}: expected ${canonical(state.view)}, found ${canonical(found?.view ?? null)}`,
      );
    }
  }
  for (const [id] of ledger.deleted) {
    check.deleted++;
    if (actual.has(id)) check.problems.push(`${id} was deleted (answered) but is back`);
  }
  for (const [id, found] of actual) {
    if (!ledger.objects.has(id)) check.problems.push(`${id} (${found.kind}) was never acknowledged`);
  }
  return check;
}

/**
 * Asks the broker for each gateway's compiled config and checks it against the ledger: its
 * blocks, its ACL's rules, and routes to exactly the other gateways of its CCN.
 */
export async function checkConfigs(call: Call, ledger: Ledger, gatewayIds: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const id of gatewayIds) {
    const gateway = ledger.objects.get(id);
    if (!gateway) continue;
    const answer = await call('GET', `/v1/gateways/${id}/config`);
    if (answer.status !== 200) {
      problems.push(`config of ${id}: ${answer.status}`);
      continue;
    }
    const { config } = answer.body;
    const aclId = gateway.view.aclId as string | null;
    const ruleIds = aclId
      ? ((ledger.objects.get(aclId)?.view.rules ?? []) as { id: string }[]).map((r) => r.id)
      : [];
    const peers = [...ledger.objects]
      .filter(
        ([peer, o]) =>
          peer !== id && o.kind === 'gateway' && o.view.ccnId && o.view.ccnId === gateway.view.ccnId,
      )
      .flatMap(([, o]) => o.view.privateCidrs as string[]);
    const want = canonical({
      privateCidrs: gateway.view.privateCidrs,
      aclId,
      aclRules: ruleIds.sort(),
      routes: peers.sort(),
    });
    const got = canonical({
      privateCidrs: config.privateCidrs,
      aclId: config.aclId,
      aclRules: config.aclRules.map((r: { id: string }) => r.id).sort(),
      routes: config.routes.map((r: { destination: string }) => r.destination).sort(),
    });
    if (want !== got) problems.push(`config of ${id}: expected ${want}, got ${got}`);
  }
  return problems;
}

/** Audit events with an id above `afterId`: how many, and the newest id. */
export async function auditEventsAfter(
  call: Call,
  afterId: number,
): Promise<{ count: number; lastId: number }> {
  let count = 0;
  let lastId = afterId;
  let cursor: string | null = null;
  for (;;) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await call('GET', `/v1/events?category=audit&limit=500${query}`);
    if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}`);
    for (const event of page.body.items as { id: number }[]) {
      if (event.id <= afterId) return { count, lastId };
      count++;
      lastId = Math.max(lastId, event.id);
    }
    cursor = page.body.nextCursor;
    if (!cursor) return { count, lastId };
  }
}

/** An events row as both the live and the backup database hold it. */
interface EventRow {
  id: number;
  category: string;
  action: string;
  resource_type: string;
  resource_id: string;
  after: string | null;
}

const TABLES: Record<string, string> = {
  gateway: 'gateways',
  ccn: 'ccns',
  cen: 'cens',
  vpc: 'vpcs',
  instance: 'instances',
  securityGroup: 'security_groups',
  acl: 'acls',
};

export function readEvents(path: string): EventRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT id, category, action, resource_type, resource_id, "after" FROM events ORDER BY id')
      .all() as EventRow[];
  } finally {
    db.close();
  }
}

/**
 * Differences between a database's entity rows and the state its own audit log replays to
 * (each audited mutation leaves its resource as the event's `after`). Empty: every row is the
 * result of exactly the mutations logged, none half there.
 */
export function replayDifferences(path: string): string[] {
  const replayed = new Map<string, string>();
  for (const event of readEvents(path)) {
    if (event.category !== 'audit') continue;
    const key = `${TABLES[event.resource_type]}/${event.resource_id}`;
    const after = event.after === null ? null : JSON.parse(event.after);
    if (after === null) replayed.delete(key);
    else replayed.set(key, canonical(after));
  }
  const stored = new Map<string, string>();
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    for (const table of Object.values(TABLES)) {
      for (const row of db.prepare(`SELECT id, data FROM ${table}`).all() as { id: string; data: string }[]) {
        stored.set(`${table}/${row.id}`, canonical(JSON.parse(row.data)));
      }
    }
  } finally {
    db.close();
  }
  const problems: string[] = [];
  for (const [key, data] of stored) {
    if (replayed.get(key) !== data)
      problems.push(`${key}: stored ${data}, audit log gives ${replayed.get(key)}`);
  }
  for (const key of replayed.keys())
    if (!stored.has(key)) problems.push(`${key}: in the audit log, not stored`);
  return problems;
}
