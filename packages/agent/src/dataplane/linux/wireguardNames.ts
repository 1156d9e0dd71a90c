/** Every interface the linux data plane owns starts with this; it never touches any other. */
export const TUNNEL_INTERFACE_PREFIX = 'sag-wg';

/** The active access point's tunnel is sag-wg0, the standby's sag-wg1. */
export function tunnelInterfaceName(role: 'active' | 'standby'): string {
  return `${TUNNEL_INTERFACE_PREFIX}${role === 'active' ? 0 : 1}`;
}

export function isTunnelInterface(name: string): boolean {
  return new RegExp(`^${TUNNEL_INTERFACE_PREFIX}\\d+$`).test(name);
}
