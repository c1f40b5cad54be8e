/**
 * TLS through the tunnel, locally: a throwaway CA and a certificate for "localhost" made with
 * openssl, and a TLS front that decrypts and passes bytes to a plain upstream (the stand-in).
 *
 * workerd verifies certificates against its own list, which Miniflare extends with the PEM file
 * named by NODE_EXTRA_CA_CERTS when its module loads. So `trustTestCa()` must run before
 * "miniflare" is first imported in the process: call it, then import the stack dynamically.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCerts extends KeyPair {
  caPath: string;
  /** Self-signed for "localhost": valid name, untrusted issuer. */
  rogue: KeyPair;
}

let made: TestCerts | undefined;

/** Makes the CA and server certificate once, and points NODE_EXTRA_CA_CERTS at the CA. */
export function trustTestCa(): TestCerts {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), "egress-tls-"));
  const at = (name: string) => join(dir, name);
  // Run in `dir`, so file names are relative; no argument has a space.
  const openssl = (args: string) => execFileSync("openssl", args.split(" "), { cwd: dir, stdio: "pipe" });
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  openssl(`req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=egress-test-ca`);
  openssl(`req ${ec} -keyout server.key -out server.csr -subj /CN=localhost`);
  writeFileSync(
    at("ext.cnf"),
    "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  openssl("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf");
  // A certificate for the same name that no trusted CA signed, to show verification is on.
  openssl(
    `req -x509 ${ec} -keyout rogue.key -out rogue.pem -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost`,
  );
  process.env.NODE_EXTRA_CA_CERTS = at("ca.pem");
  const read = (name: string) => readFileSync(at(name), "utf8");
  made = {
    caPath: at("ca.pem"),
    key: read("server.key"),
    cert: read("server.pem"),
    rogue: { key: read("rogue.key"), cert: read("rogue.pem") },
  };
  return made;
}

export interface TlsFront {
  port: number;
  /** TLS handshakes completed (each is one tunnel that reached the upstream). */
  handshakes: number;
  stop(): Promise<void>;
}

/** Terminates TLS with `pair` on a loopback port and pipes the plaintext to `upstreamPort`. */
export async function startTlsFront(pair: KeyPair, upstreamPort: number): Promise<TlsFront> {
  const front = { port: 0, handshakes: 0, stop: async () => {} } as TlsFront;
  const open = new Set<{ destroy(): void }>();
  const server: Server = createServer({ key: pair.key, cert: pair.cert }, (secure) => {
    front.handshakes++;
    open.add(secure);
    secure.on("close", () => open.delete(secure));
    const plain = tcpConnect(upstreamPort, "127.0.0.1");
    secure.pipe(plain).pipe(secure);
    const drop = () => {
      secure.destroy();
      plain.destroy();
    };
    secure.on("error", drop);
    plain.on("error", drop);
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  front.port = (server.address() as { port: number }).port;
  front.stop = () => {
    for (const socket of open) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return front;
}
