import { describe, expect, it } from "vitest";
import { downloadRefusal } from "../../../../workers/app/src/openai-answer/download-target";

describe("downloadRefusal", () => {
  it.each([
    "https://oaidalleapiprodscus.blob.core.windows.net/private/img.png?sig=x",
    "https://files.example.com:443/a.png",
  ])("allows %s", (url) => {
    expect(downloadRefusal(url)).toBeUndefined();
  });

  it.each([
    ["http://files.example.com/a.png", /scheme/],
    ["ftp://files.example.com/a.png", /scheme/],
    ["https://files.example.com:8443/a.png", /port/],
    ["https://u:p@files.example.com/a.png", /credentials/],
    ["https://127.0.0.1/", /address/],
    ["https://0.0.0.0/", /address/],
    ["https://10.1.2.3/", /address/],
    ["https://100.64.0.1/", /address/],
    ["https://169.254.169.254/", /address/],
    ["https://2130706433/", /address/],
    ["https://0x7f000001/", /address/],
    ["https://[::1]/", /address/],
    ["https://[fe80::1]/", /address/],
    ["https://[fc00::1]/", /address/],
    ["https://[::ffff:127.0.0.1]/", /address/],
    ["https://8.8.8.8/", /address/],
    ["https://localhost/", /single-label|local/],
    ["https://LOCALHOST./", /single-label|local/],
    ["https://api.localhost/", /local/],
    ["https://nas.local/", /local/],
    ["https://metadata.google.internal/", /local/],
    ["https://intranet/", /single-label/],
    ["not a url", /not a URL/],
  ])("refuses %s", (url, reason) => {
    expect(downloadRefusal(url)).toMatch(reason);
  });
});
