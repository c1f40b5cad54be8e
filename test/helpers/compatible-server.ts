/**
 * An OpenAI-compatible server on loopback, as many self-hosted ones are: it generates images,
 * and answers GET /v1/models with a chosen status (404: it has no such endpoint; 401: the key is
 * wrong) and anything else with 404. It records every request line.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { imagesAnswer } from "./fault-upstream.ts";

export interface CompatibleServer {
  url: string;
  /** "METHOD /path" of every request, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function compatibleServer(modelsStatus: number): Promise<CompatibleServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/images/generations") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(imagesAnswer());
        return;
      }
      const status = req.url === "/v1/models" ? modelsStatus : 404;
      res.writeHead(status, { "content-type": "application/json" });
      const code = status === 401 ? "invalid_api_key" : null;
      res.end(
        JSON.stringify({ error: { message: `HTTP ${status}`, type: "invalid_request_error", param: null, code } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
