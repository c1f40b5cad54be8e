/**
 * `npm run images:lifecycle -- --days N [--remote]`
 *
 * Gives generated images a lifetime: an R2 lifecycle rule `expire-images` on the bucket
 * `generated-images` that deletes objects under `images/` N days after they were written
 * (wrangler's `r2 bucket lifecycle add`). Lifecycle rules exist only on Cloudflare's side, so
 * without --remote this prints the command it would run and changes nothing. Image URLs in old
 * answers and generation records then answer 404 after N days.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
const BUCKET = "generated-images";
const RULE = "expire-images";
const PREFIX = "images/";

const args = process.argv.slice(2);
const remote = args.includes("--remote");
const daysAt = args.indexOf("--days");
const days = daysAt >= 0 ? Number(args[daysAt + 1]) : Number.NaN;
if (!Number.isInteger(days) || days < 1) {
  console.error("Usage: npm run images:lifecycle -- --days N [--remote]   (N: whole days, at least 1)");
  process.exit(2);
}

const command = ["r2", "bucket", "lifecycle", "add", BUCKET, RULE, PREFIX, "--expire-days", String(days), "--force"];
if (!remote) {
  console.log(
    `Dry run (lifecycle rules exist only on Cloudflare; add --remote to apply):\n  wrangler ${command.join(" ")}`,
  );
  process.exit(0);
}
const run = spawnSync(process.execPath, [WRANGLER, ...command], { cwd: ROOT, stdio: "inherit" });
process.exit(run.status ?? 1);
