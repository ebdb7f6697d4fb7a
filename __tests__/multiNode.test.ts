// Data-parallel training across two machines: two network namespaces joined
// by a veth pair stand for two hosts, each with its own address, and a host
// name that resolves to loopback (as in most containers). Gloo must bind to the
// interface that reaches MASTER_ADDR without GLOO_SOCKET_IFNAME being set.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { glooInterfaceFor, parseProcNetRoute, routeInterface } from "../lib/distributed/socketInterface";
import { subset } from "./helpers/cli";

const ROOT = path.resolve(__dirname, "..");
const FINETUNE = path.join(ROOT, "dist", "cli", "finetune.js");

// /proc/net/route as Linux prints it: a default route via eth0 and two subnets.
const ROUTES = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
veth1	0007E70A	00000000	0001	0	0	0	00FFFFFF	0	0	0
down0	0008E70A	00000000	0000	0	0	0	00FFFFFF	0	0	0
`;

describe("the interface that routes to MASTER_ADDR", () => {
  const routes = parseProcNetRoute(ROUTES);

  test("parses the kernel's little-endian table, keeping only routes that are up", () => {
    expect(routes.map((r) => r.iface)).toEqual(["eth0", "eth0", "veth1"]);
    expect(routes[2]).toEqual({ iface: "veth1", destination: 0x0ae70700, mask: 0xffffff00, metric: 0 });
  });

  test("takes the most specific route: a subnet over the default route", () => {
    expect(routeInterface(routes, "10.231.7.1")).toBe("veth1");
    expect(routeInterface(routes, "192.0.2.9")).toBe("eth0");
    expect(routeInterface(routes, "8.8.8.8")).toBe("eth0"); // the default route
    expect(routeInterface(routes, "10.231.8.1")).toBe("eth0"); // down0 is down
  });

  test("leaves Gloo's own choice where it is right: GLOO_SOCKET_IFNAME set, or a group on loopback", async () => {
    expect(await glooInterfaceFor("10.231.7.1", { GLOO_SOCKET_IFNAME: "eth7" })).toBeUndefined();
    expect(await glooInterfaceFor("127.0.0.1", {})).toBeUndefined();
    expect(await glooInterfaceFor("localhost", {})).toBeUndefined();
  });
});

const asRoot = process.getuid?.() === 0;
if (!asRoot && process.env.CI) {
  test("two hosts in network namespaces (needs root, which CI has)", () => {
    throw new Error("this test makes network namespaces and needs root; CI runs as root");
  });
}

(asRoot ? describe : describe.skip)("two hosts in network namespaces", () => {
  const tag = `${process.pid % 100000}`;
  const ns = [`tt${tag}a`, `tt${tag}b`];
  const addr = ["10.231.7.1", "10.231.7.2"];
  let tmp: string;

  const run = (command: string, ...args: string[]) => {
    const r = spawnSync(command, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${r.stderr || r.error}`);
  };
  const ip = (...args: string[]) => run("ip", ...args);
  // nsenter enters the network namespace alone: `ip -n` and `ip netns exec`
  // also remount / and /sys, which fails inside a chroot (CI's Debian 13 leg).
  const inNs = (i: number) => ["nsenter", `--net=/run/netns/${ns[i]}`];

  beforeAll(() => {
    expect(fs.existsSync(FINETUNE)).toBe(true);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-nodes-"));
    subset(path.join(tmp, "data"), 4);
    ip("netns", "add", ns[0]);
    ip("netns", "add", ns[1]);
    ip("link", "add", `v${tag}a`, "type", "veth", "peer", "name", `v${tag}b`);
    for (const i of [0, 1]) {
      const dev = `v${tag}${"ab"[i]}`;
      ip("link", "set", dev, "netns", ns[i]);
      const [nsenter, ...enter] = inNs(i);
      run(nsenter, ...enter, "ip", "addr", "add", `${addr[i]}/24`, "dev", dev);
      run(nsenter, ...enter, "ip", "link", "set", dev, "up");
      run(nsenter, ...enter, "ip", "link", "set", "lo", "up");
    }
  });

  afterAll(() => {
    for (const n of ns) spawnSync("ip", ["netns", "del", n]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("a 2-node run without GLOO_SOCKET_IFNAME trains; rank 0 alone reports and writes", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0" };
    delete env.GLOO_SOCKET_IFNAME;
    const children: ReturnType<typeof spawn>[] = [];
    const node = (rank: number) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const [nsenter, ...enter] = inNs(rank);
        const args = [
          ...enter, process.execPath, FINETUNE,
          "--data", path.join(tmp, "data"), "--epochs", "1", "--weights", "none", "--batch-size", "2", "--seed", "3",
          "--nnodes", "2", "--node-rank", String(rank), "--nproc-per-node", "1",
          "--master-addr", addr[0], "--master-port", "29533",
          // Bound the wait: a node bound to the wrong interface fails naming the rendezvous, not after 30 minutes.
          "--dist-timeout", "300",
          "--out", path.join(tmp, `out${rank}`), "--json", "--no-report",
        ];
        const child = spawn(nsenter, args, { env, stdio: ["ignore", "pipe", "pipe"] });
        children.push(child);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => {
          // A node that failed leaves the other waiting for it until Gloo's 30-minute timeout.
          if (code !== 0) children.forEach((c) => c !== child && c.exitCode === null && c.kill("SIGKILL"));
          resolve({ code, stdout, stderr });
        });
      });
    const [r0, r1] = await Promise.all([node(0), node(1)]);
    expect({ code: r0.code, stderr: r0.code ? r0.stderr : "" }).toEqual({ code: 0, stderr: "" });
    expect({ code: r1.code, stderr: r1.code ? r1.stderr : "" }).toEqual({ code: 0, stderr: "" });
    const epochs = (s: string) => s.split("\n").filter((l) => l.startsWith("{") && l.includes('"phase"')).map((l) => {
      const { epoch, phase, loss, acc } = JSON.parse(l);
      return { epoch, phase, loss, acc };
    });
    expect(epochs(r0.stdout).map((e) => e.phase)).toEqual(["train", "val"]);
    expect(epochs(r1.stdout)).toEqual([]); // rank 0 alone reports (its totals are reduced over both nodes)
    expect(fs.existsSync(path.join(tmp, "out0", "model.safetensors"))).toBe(true);
    expect(fs.existsSync(path.join(tmp, "out1", "model.safetensors"))).toBe(false);
  }, 900_000);
});
