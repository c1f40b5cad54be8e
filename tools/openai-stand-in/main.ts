/** Runs the stand-in alone: `node tools/openai-stand-in/main.ts [port]`. */
import { OpenAIStandIn } from "./server.ts";

const port = Number(process.argv[2] ?? process.env.STAND_IN_PORT ?? 8790);
const standIn = await new OpenAIStandIn({ loud: true }).start(port);
console.log(`[openai-stand-in] listening on ${standIn.url} (placeholder images, no real generation)`);
