import { describe, expect, it } from "vitest";
import { FORWARDED_PATHS, matchEndpoint } from "../../../workers/relay/src/endpoints";

describe("matchEndpoint", () => {
  it.each(["/v1/images/generations", "/v1/images/edits", "/v1/images/variations"])("forwards POST %s", (path) => {
    expect(matchEndpoint("POST", path)).toEqual({ kind: "forward", path });
  });

  it("forwards exactly three paths", () => {
    expect(FORWARDED_PATHS).toHaveLength(3);
  });

  it.each(["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])(
    "answers %s on a forwarded path with 405, allow POST",
    (method) => {
      expect(matchEndpoint(method, "/v1/images/generations")).toEqual({ kind: "method_not_allowed", allow: "POST" });
    },
  );

  it("serves diagnostics on GET only", () => {
    expect(matchEndpoint("GET", "/_relay/diagnostics")).toEqual({ kind: "diagnostics" });
    expect(matchEndpoint("POST", "/_relay/diagnostics")).toEqual({ kind: "method_not_allowed", allow: "GET" });
  });

  it.each([
    "/",
    "",
    "/v1/images",
    "/v1/images/generations/",
    "/v1/images/generations/x",
    "/v1/images/generations%2F",
    "/v1//images/generations",
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/models",
    "/V1/images/generations",
    "/v1/Images/Generations",
    "/x/v1/images/generations",
    "/_relay/diagnostics/",
    "/_relay/health",
    "/_relay",
  ])("does not know %j", (path) => {
    expect(matchEndpoint("POST", path)).toEqual({ kind: "not_found" });
    expect(matchEndpoint("GET", path)).toEqual({ kind: "not_found" });
  });
});
