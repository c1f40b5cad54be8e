/**
 * The client key of an open-mode caller, from the address Cloudflare's edge reports. An IPv4
 * address is one client. An IPv6 client is its /64: one subscriber, phone or server gets a whole
 * /64 and can pick any of its 2^64 addresses, so keying by address would give it a fresh limit per
 * request. Every spelling of an address (case, `::`, leading zeros, IPv4-mapped) gives one key.
 */

/** The key of one address: `ip:203.0.113.7`, `ip:2001:db8:0:1::/64`; null when it is not an IP address. */
export function addressKey(text: string): string | null {
  const v4 = parseIPv4(text);
  if (v4) return `ip:${v4.join(".")}`;
  const v6 = parseIPv6(text);
  if (!v6) return null;
  // ::ffff:a.b.c.d is an IPv4 client seen through an IPv6 socket: the same client as a.b.c.d.
  const [, , , , , mapped = 0, high = 0, low = 0] = v6;
  if (v6.slice(0, 5).every((g) => g === 0) && mapped === 0xffff) {
    return `ip:${[high >> 8, high & 0xff, low >> 8, low & 0xff].join(".")}`;
  }
  return `ip:${v6
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/**
 * The client key of a request, from `cf-connecting-ip` (set by the edge on every request from the
 * internet; a client can't set or remove it). With Pseudo IPv4 in "overwrite" mode the edge puts
 * a Class E address (240.0.0.0/4, which no real client has) there and the real IPv6 address in
 * `cf-connecting-ipv6`; only then is that header read. null: no usable address.
 */
export function clientKeyFromHeaders(
  connectingIp: string | undefined,
  connectingIpv6: string | undefined,
): string | null {
  const key = connectingIp === undefined ? null : addressKey(connectingIp);
  const v4 = connectingIp === undefined ? null : parseIPv4(connectingIp);
  if (v4 && v4[0] >= 240 && connectingIpv6 !== undefined) return addressKey(connectingIpv6) ?? key;
  return key;
}

/** Four decimal octets without leading zeros (which some parsers read as octal), or null. */
function parseIPv4(text: string): [number, number, number, number] | null {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text.trim());
  if (!m) return null;
  const octets: [number, number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  return octets.every((o) => o <= 255) ? octets : null;
}

/** Eight 16-bit groups, or null. Takes `[...]`, a zone (`%eth0`, dropped) and a dotted IPv4 tail. */
function parseIPv6(text: string): number[] | null {
  let s = text.trim().toLowerCase();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  s = s.replace(/%[0-9a-z._~-]+$/, "");
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = parseIPv4(dotted[2] ?? "");
    if (!v4) return null;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    // "::1.2.3.4" leaves "::"; "1::1.2.3.4" leaves "1::"; "1:2:3:4:5:6:1.2.3.4" leaves "…:6:".
    s = dotted[1]?.endsWith("::") ? (dotted[1] ?? "") : (dotted[1] ?? "").slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined) => (half ? half.split(":") : []);
  const head = groups(halves[0]);
  const rest = groups(halves[1]);
  if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const zeros = Array<number>(8 - explicit).fill(0);
  return [...head.map((g) => Number.parseInt(g, 16)), ...zeros, ...rest.map((g) => Number.parseInt(g, 16)), ...tail];
}
