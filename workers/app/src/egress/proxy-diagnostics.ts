/**
 * /api/health asks the relay for `/_relay/diagnostics`. A proxy route has no relay, so the app
 * answers for it in the same shape: GET /v1/models through the tunnel costs nothing and is
 * refused exactly as a generation would be (a region block, a wrong key).
 */
import type { Logger } from "../../../shared/log";
import { parseOpenAIError, REGION_BLOCK_CODE, readTextLimited } from "../../../shared/read-limited";
import type { EgressConfig } from "../config";
import type { PreparedCall } from "./call";
import { callThroughProxy } from "./proxy-call";
import type { ProxyRoute } from "./routes";

export const PROXY_DIAGNOSTICS_PATH = "/_relay/diagnostics";

export async function proxyDiagnostics(
  route: ProxyRoute,
  egress: EgressConfig,
  call: PreparedCall,
  log: Logger,
): Promise<Response> {
  const res = await callThroughProxy(route, egress, { ...call, method: "GET", path: "/v1/models" }, log, () => {});
  const text = await readTextLimited(res.body, 16 * 1024);
  const regionBlocked = res.status === 403 && parseOpenAIError(text).code === REGION_BLOCK_CODE;
  // The relay's shape: `placed` is the path the calls take (here, the proxy's egress).
  return Response.json({
    verdict: regionBlocked ? "region_blocked" : "ok",
    route: route.name,
    key_configured: Boolean(egress.openaiApiKey),
    placed: {
      verdict: regionBlocked ? "region_blocked" : "ok",
      models_status: res.status,
      key_accepted: regionBlocked ? null : res.status === 200,
    },
    fallback: null,
  });
}
