// Which network interface Gloo binds to when ranks span machines.
//
// Gloo, left alone, binds to the address this host's name resolves to. In
// most containers and many VMs that is 127.0.0.1 (an /etc/hosts line), so a
// rank on another machine is told to connect to its own loopback and fails
// with "Connection refused". PyTorch only warns; here, when GLOO_SOCKET_IFNAME
// is unset, the host name resolves to loopback and MASTER_ADDR does not, Gloo
// binds to the interface the kernel routes MASTER_ADDR through, which is the
// one the other machines can reach this one on.
import * as dns from "dns/promises";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";

export interface Route {
  iface: string;
  /** Destination network and mask, as host-order 32-bit numbers. */
  destination: number;
  mask: number;
  metric: number;
}

/** The IPv4 routing table from Linux's /proc/net/route text. */
export function parseProcNetRoute(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // The kernel prints addresses as little-endian hex words.
    const word = (hex: string) => Number.parseInt(hex.match(/../g)!.reverse().join(""), 16) >>> 0;
    const flags = Number.parseInt(f[3], 16);
    if (!(flags & 1)) continue; // RTF_UP
    routes.push({ iface: f[0], destination: word(f[1]), mask: word(f[7]), metric: Number(f[6]) });
  }
  return routes;
}

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** The interface of the most specific route to `address` (longest mask, then lowest metric). */
export function routeInterface(routes: Route[], address: string): string | undefined {
  const target = ipv4ToNumber(address);
  let best: Route | undefined;
  for (const r of routes) {
    if (((target & r.mask) >>> 0) !== r.destination) continue;
    if (!best || r.mask > best.mask || (r.mask === best.mask && r.metric < best.metric)) best = r;
  }
  return best?.iface;
}

/** Without /proc (macOS): the interface whose own subnet holds `address`. */
function subnetInterface(address: string): string | undefined {
  const target = ipv4ToNumber(address);
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family !== "IPv4" || info.internal) continue;
      const mask = ipv4ToNumber(info.netmask);
      if (((ipv4ToNumber(info.address) & mask) >>> 0) === ((target & mask) >>> 0)) return name;
    }
  }
  return undefined;
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.");
}

async function lookup(host: string): Promise<string | undefined> {
  try {
    return (await dns.lookup(host, { family: net.isIPv6(host) ? 6 : 4 })).address;
  } catch {
    return undefined;
  }
}

/**
 * The interface Gloo should bind to for a group whose rank 0 is at
 * `masterAddr`, or undefined where Gloo's own choice is right: the user set
 * GLOO_SOCKET_IFNAME, the group is on loopback, or this host's name resolves
 * to an address other machines can reach.
 */
export async function glooInterfaceFor(masterAddr: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.GLOO_SOCKET_IFNAME) return undefined;
  const master = await lookup(masterAddr);
  if (!master || isLoopback(master) || !net.isIPv4(master)) return undefined;
  const self = await lookup(os.hostname());
  if (self && !isLoopback(self)) return undefined;
  let routes: Route[] = [];
  try {
    routes = parseProcNetRoute(await fs.promises.readFile("/proc/net/route", "utf8"));
  } catch {
    // not Linux
  }
  return routes.length ? routeInterface(routes, master) : subnetInterface(master);
}
