// Runs one SLP service in its own process (inside a test's network namespace).
// argv[2]: the SlpConfig as JSON. Prints "ready" when serving; "status" on stdin prints the
// status as JSON; exits on SIGTERM or when stdin closes.
import type { SlpConfig } from "../../../src/config/types.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { createSlpService } from "../../../src/slp/service.ts";

const cfg = JSON.parse(process.argv[2] ?? "{}") as SlpConfig;
const logger = createLogger({ level: (process.env.SLP_LOG_LEVEL as "debug" | undefined) ?? "warn", format: "json", write: (l) => process.stderr.write(`${l}\n`) });
const svc = createSlpService(cfg, { logger });
await svc.start();
process.stdout.write("ready\n");

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await svc.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
const decoder = new TextDecoder();
for await (const chunk of Bun.stdin.stream()) {
  for (const line of decoder.decode(chunk).split("\n")) {
    if (line.trim() === "status") process.stdout.write(`${JSON.stringify(svc.status())}\n`);
  }
}
await stop();
