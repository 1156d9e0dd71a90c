// What the kernel of a lab namespace holds: WireGuard interfaces and peers, routes, links, and the
// processes behind the tunnels. Read with the same tools a person would use (wg, ip, /proc).
import { inNamespace, processesIn, wireguardIn } from '../../scripts/netnsLab.mjs';

export interface WireguardPeer {
  publicKey: string;
  endpoint: string;
  allowedIps: string[];
}

export interface WireguardInterface {
  publicKey: string;
  listenPort: number;
  peers: WireguardPeer[];
}

/** `wg show all dump` in `ns`, by interface name. */
export function wireguardInterfaces(ns: string): Map<string, WireguardInterface> {
  const result = wireguardIn(ns, ['show', 'all', 'dump']);
  if (result.code !== 0) throw new Error(`wg show all dump in ${ns} failed: ${result.stderr.trim()}`);
  const interfaces = new Map<string, WireguardInterface>();
  for (const line of result.stdout.trim().split('\n').filter(Boolean)) {
    const fields = line.split('\t');
    const name = fields[0];
    if (fields.length === 5) {
      interfaces.set(name, { publicKey: fields[2], listenPort: Number(fields[3]), peers: [] });
    } else {
      const allowed = fields[4] === '(none)' ? [] : fields[4].split(',');
      interfaces
        .get(name)
        ?.peers.push({ publicKey: fields[1], endpoint: fields[3], allowedIps: allowed.sort() });
    }
  }
  return interfaces;
}

/** `ip -j route show proto N` in `ns`: destination → device. */
export function routesByProtocol(ns: string, proto: number): Map<string, string> {
  const result = inNamespace(ns, 'ip', ['-j', 'route', 'show', 'proto', String(proto)]);
  const routes = JSON.parse(result.stdout || '[]') as { dst: string; dev: string }[];
  return new Map(routes.map((r) => [r.dst, r.dev]));
}

/** The device `ip route get` picks for `destination` in `ns`. */
export function routeDevice(ns: string, destination: string): string | undefined {
  return / dev (\S+)/.exec(inNamespace(ns, 'ip', ['route', 'get', destination]).stdout)?.[1];
}

/** The ifindex of each OpenSAG link (`sag-*`) in `ns`. */
export function sagLinkIndexes(ns: string): Record<string, number> {
  const links = JSON.parse(inNamespace(ns, 'ip', ['-j', 'link', 'show']).stdout || '[]') as {
    ifindex: number;
    ifname: string;
  }[];
  return Object.fromEntries(
    links.filter((l) => l.ifname.startsWith('sag-')).map((l) => [l.ifname, l.ifindex]),
  );
}

/** The wireguard-go process behind each tunnel interface in `ns` (none where the kernel module serves). */
export function tunnelProcesses(ns: string): Record<string, number> {
  return Object.fromEntries(
    processesIn(ns)
      .filter((p: { comm: string }) => p.comm === 'wireguard-go')
      .map((p: { pid: number; args: string[] }) => [p.args.at(-1), p.pid]),
  );
}

/** `nft list table inet NAME` in `ns`: its text, or null when there is no such table. */
export function nftTable(ns: string, name: string): string | null {
  const result = inNamespace(ns, 'nft', ['list', 'table', 'inet', name]);
  return result.code === 0 ? result.stdout : null;
}
