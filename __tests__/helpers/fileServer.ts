// A local HTTP server on 127.0.0.1 for download tests; routes map a path to a behaviour.
import * as http from "http";
import type { AddressInfo } from "net";

export type Route =
  | { body: Buffer }
  | { redirect: string }
  | { status: number }
  /** Announces the whole length, sends the first half, then drops the connection. */
  | { cut: Buffer };

export interface FileServer {
  url(p: string): string;
  close(): Promise<void>;
}

export async function serve(routes: Record<string, Route>): Promise<FileServer> {
  const server = http.createServer((req, res) => {
    const route = routes[req.url ?? ""];
    if (!route) {
      res.writeHead(404).end("not found");
    } else if ("body" in route) {
      res.writeHead(200, { "content-length": route.body.length }).end(route.body);
    } else if ("redirect" in route) {
      res.writeHead(302, { location: route.redirect }).end();
    } else if ("status" in route) {
      res.writeHead(route.status).end("nope");
    } else {
      res.writeHead(200, { "content-length": route.cut.length });
      res.write(route.cut.subarray(0, route.cut.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
