import type { MqttClient } from 'mqtt';
import { type AgentIdentity, type AgentProcess, runAgent } from './agents.js';
import { type ProbeResponder, startProbeResponder } from './probeResponder.js';
import { type BrokerOptions, type BrokerProcess, removeTempDirs, startBroker } from './processes.js';

/** Keepalive figures short enough for tests (the defaults are 1 s × 3 and a 10 s hold-down). */
export const FAST_KEEPALIVE = { intervalMs: 200, multiplier: 3, lossWindow: 20, holdDownMs: 1000 };

/**
 * Everything one test started: brokers, agents, test-side MQTT clients and access points.
 * `cleanup()` (in afterEach) ends all of it, whether the test passed or not.
 */
export class Lab {
  private readonly brokers: BrokerProcess[] = [];
  private readonly agents: AgentProcess[] = [];
  private readonly clients: MqttClient[] = [];
  private readonly responders: ProbeResponder[] = [];

  /** A broker with the fast keepalive settings unless `options.config` says otherwise. */
  async broker(options: BrokerOptions = {}): Promise<BrokerProcess> {
    const broker = await startBroker({ config: { keepalive: FAST_KEEPALIVE }, ...options });
    this.brokers.push(broker);
    return broker;
  }

  agent(identity: AgentIdentity, brokerUrl: string): AgentProcess {
    const agent = runAgent(identity, brokerUrl);
    this.agents.push(agent);
    return agent;
  }

  client(client: MqttClient): MqttClient {
    this.clients.push(client);
    return client;
  }

  async responder(): Promise<ProbeResponder> {
    const responder = await startProbeResponder();
    this.responders.push(responder);
    return responder;
  }

  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.end(true);
    await Promise.all([
      ...this.agents.splice(0).map((agent) => agent.kill()),
      ...this.brokers.splice(0).map((broker) => broker.kill()),
      ...this.responders.splice(0).map((responder) => responder.close()),
    ]);
    removeTempDirs();
  }
}
