// IP address literals, without node:net or node:os: the CLI's IPMI client parses its target
// here, and loading either module costs a command start more than the rest of its work.
// A leaf: it imports nothing.

/** "10.0.0.1" (or "::ffff:10.0.0.1", as dual-stack sockets report IPv4 peers) → 32-bit number. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(plainIPv4(text));
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n >>> 0;
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; anything else unchanged. */
export function plainIPv4(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

/** 4 or 6 for an address literal (an IPv6 one may carry a %zone), 0 for anything else (a name). */
export function ipFamily(text: string): 0 | 4 | 6 {
  // Dotted decimal without leading zeros (which some parsers read as octal), as node:net does.
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(text)) return 4;
  if (!text.includes(":")) return 0;
  const zone = text.indexOf("%");
  const bare = zone < 0 ? text : text.slice(0, zone);
  if (zone >= 0 && !/^[\w.-]+$/.test(text.slice(zone + 1))) return 0;
  // The WHATWG URL parser's IPv6 grammar (RFC 4291 text forms, embedded IPv4 included).
  return URL.canParse(`http://[${bare}]/`) ? 6 : 0;
}
