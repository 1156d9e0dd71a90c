import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The broker's own Prometheus metrics; the HTTP layer adds its request metrics to the same registry. */
export interface BrokerMetrics {
  registry: Registry;
  mutations: Counter<'action'>;
  gatewaysRecompiled: Counter;
  configRevisions: Counter;
  lastMutationRecompiled: Gauge;
  compileSeconds: Histogram;
}

export function createMetrics(registry = new Registry()): BrokerMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'opensag_' });
  return {
    registry,
    mutations: new Counter({
      name: 'opensag_mutations_total',
      help: 'API mutations committed, by action',
      labelNames: ['action'],
      registers: [registry],
    }),
    gatewaysRecompiled: new Counter({
      name: 'opensag_gateways_recompiled_total',
      help: 'Gateway configs recompiled because a mutation touched them',
      registers: [registry],
    }),
    configRevisions: new Counter({
      name: 'opensag_config_revisions_total',
      help: 'New gateway config revisions (recompiled configs whose content changed)',
      registers: [registry],
    }),
    lastMutationRecompiled: new Gauge({
      name: 'opensag_last_mutation_recompiled_gateways',
      help: 'How many gateways the most recent mutation recompiled',
      registers: [registry],
    }),
    compileSeconds: new Histogram({
      name: 'opensag_compile_seconds',
      help: 'Time to recompile the gateways affected by one mutation',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

/** How the fleet stands right now, counted when /metrics is scraped. */
export interface FleetCounts {
  gatewaysByLifecycle: Record<string, number>;
  devicesByPresence: Record<string, number>;
  gatewaysBySync: Record<string, number>;
}

/** Gauges computed from the control plane's memory at scrape time, so they can never drift. */
export function registerFleetGauges(registry: Registry, counts: () => FleetCounts): void {
  const gauge = (
    name: string,
    help: string,
    label: string,
    pick: (c: FleetCounts) => Record<string, number>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(pick(counts()))) this.set({ [label]: value }, count);
      },
    });
  gauge('opensag_gateways', 'Gateways by lifecycle', 'lifecycle', (c) => c.gatewaysByLifecycle);
  gauge('opensag_devices', 'Bound devices by presence', 'presence', (c) => c.devicesByPresence);
  gauge('opensag_gateway_sync', 'Active gateways by config sync state', 'sync', (c) => c.gatewaysBySync);
}
