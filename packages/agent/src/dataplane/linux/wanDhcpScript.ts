/** What one WAN port's lease script needs to know; udhcpc passes the lease in its environment. */
export interface LeaseScriptSettings {
  port: string;
  /** The metric of the port's default route (see `wanRouteMetrics`). */
  metric: number;
  /** Where the script records the lease as JSON (see `WanLease`). */
  leaseFile: string;
}

/** Quotes a word for sh: nothing inside single quotes is special but the quote itself. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The script udhcpc runs at each DHCP event on one WAN port. On `bound`/`renew` it puts the leased
 * address on the port (replacing the previous lease's), the default route via the lease's first
 * router (`proto dhcp`, so the routes step, which owns protocol 222, leaves it alone), and records
 * the lease; on `deconfig`/`leasefail`/`nak` it removes exactly that address and route. Other
 * addresses on the port stay, and DNS servers are only recorded: /etc/resolv.conf is not the
 * data plane's (namespaces share it with the host).
 */
export function renderLeaseScript(settings: LeaseScriptSettings): string {
  return `#!/bin/sh
# udhcpc lease script of WAN port ${settings.port}, written by sag-agent at each start of the client.
PATH="$PATH:/usr/sbin:/usr/bin:/sbin:/bin"
port=${shellQuote(settings.port)}
metric=${settings.metric}
lease_file=${shellQuote(settings.leaseFile)}

leased() {
  [ -f "$lease_file" ] && sed -n 's/.*"address":"\\([^"]*\\)".*/\\1/p' "$lease_file"
}

unroute() {
  ip route del default dev "$port" proto dhcp metric "$metric" 2>/dev/null
}

drop() {
  unroute
  old=$(leased)
  [ -n "$old" ] && ip address del "$old" dev "$port" 2>/dev/null
  rm -f "$lease_file"
}

take() {
  new="$ip/\${mask:-32}"
  old=$(leased)
  [ -n "$old" ] && [ "$old" != "$new" ] && drop
  ip address replace "$new" dev "$port" || exit 1
  gateway=\${router%% *}
  router_json=null
  if [ -n "$gateway" ]; then
    onlink=
    [ "\${mask:-32}" = 32 ] && onlink=onlink
    ip route replace default via "$gateway" dev "$port" $onlink proto dhcp metric "$metric" || exit 1
    router_json="\\"$gateway\\""
  else
    unroute
  fi
  servers=
  for server in $dns; do servers="$servers\${servers:+,}\\"$server\\""; done
  server_json=null
  [ -n "$serverid" ] && server_json="\\"$serverid\\""
  printf '{"port":"%s","address":"%s","ip":"%s","mask":%s,"router":%s,"dns":[%s],"leaseSeconds":%s,"serverId":%s,"metric":%s,"obtainedAt":"%s"}\\n' \\
    "$port" "$new" "$ip" "\${mask:-32}" "$router_json" "$servers" "\${lease:-0}" "$server_json" "$metric" \\
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$lease_file.tmp" && mv -f "$lease_file.tmp" "$lease_file"
}

case "$1" in
  bound|renew) take ;;
  deconfig|leasefail|nak) drop ;;
esac
exit 0
`;
}
