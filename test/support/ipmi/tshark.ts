// tshark for IPMI tests: capture one UDP port on lo, read the datagrams back, and dissect the
// replies. Every dissection passes `ipmi.dissect_bus_commands:TRUE`: without it Wireshark 4.0
// stops at the session wrapper and shows the IPMI message as opaque "Bus command data", so a
// malformed reply would go unnoticed. (Payloads of encrypted RMCP+ sessions stay opaque
// whatever the options; only IPMI 1.5 and sessionless traffic is dissected to the data.)
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRESENCE_PING, run, stopChild, waitForOutput } from "./peers.ts";

export interface Capture {
  file: string;
  /** Stops tshark and returns the capture file path. */
  stop(): Promise<string>;
}

/**
 * tshark on lo, filtered to one UDP port. tshark says "Capturing on" before packets are
 * really captured, so this pings the port until tshark prints a packet: the capture then
 * starts with one or more ASF ping/pong pairs.
 */
export async function startCapture(port: number): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-cap-"));
  const file = join(dir, "cap.pcapng");
  const child = spawn("tshark", ["-i", "lo", "-f", `udp port ${port}`, "-w", file, "-P", "-l"], { stdio: ["ignore", "pipe", "pipe"] });
  const stop = async () => {
    // Let the last packets reach the capture file.
    await new Promise((r) => setTimeout(r, 300));
    await stopChild(child, "SIGINT", 5000);
  };
  try {
    await waitForOutput(child, /Capturing on/, 15_000, "tshark");
    let printed = false;
    child.stdout.on("data", () => (printed = true));
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    const until = Date.now() + 15_000;
    while (!printed && Date.now() < until) {
      s.send(PRESENCE_PING, port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 100));
    }
    s.close();
    if (!printed) throw new Error("tshark captured nothing within 15 s (capture permissions?)");
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    file,
    async stop() {
      await stop();
      return file;
    },
  };
}

export interface CapturedDatagram {
  frame: number;
  srcPort: number;
  dstPort: number;
  hex: string;
}

async function tshark(args: string[]): Promise<string> {
  const r = await run("tshark", args, 30_000);
  if (r.code !== 0) throw new Error(`tshark ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** The UDP payloads in a capture file. */
export async function readCapture(file: string): Promise<CapturedDatagram[]> {
  const out = await tshark(["-r", file, "-T", "fields", "-e", "frame.number", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.payload"]);
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [frame, src, dst, hex] = l.split("\t");
      return { frame: Number(frame), srcPort: Number(src), dstPort: Number(dst), hex: (hex ?? "").replace(/:/g, "") };
    });
}

function dissect(file: string, port: number): string[] {
  return ["-r", file, "-d", `udp.port==${port},rmcp`, "-o", "ipmi.dissect_bus_commands:TRUE"];
}

/** The Info column of every frame, e.g. "Rsp, Get LAN Configuration Parameters, Parameter not supported (80h)". */
export async function ipmiInfo(file: string, port: number): Promise<string[]> {
  const out = await tshark([...dissect(file, port), "-T", "fields", "-e", "_ws.col.Info"]);
  return out.split("\n").filter((l) => l.trim() !== "");
}

/**
 * Replies (frames from `port`) tshark marks malformed, or with an expert error or warning,
 * as text ("" = none). Requests are the client's business (tests send malformed ones).
 * "Undecoded" warnings (group 0x05000000: Wireshark has no parser for e.g. Get Channel
 * Info data) say nothing about the frame and are left out.
 */
export async function ipmiProblems(file: string, port: number): Promise<string> {
  const filter = `udp.srcport == ${port} && (_ws.malformed || _ws.expert.severity >= error || (_ws.expert.severity >= warning && _ws.expert.group != 0x05000000))`;
  return (await tshark([...dissect(file, port), "-Y", filter])).trim();
}

/**
 * The whole check of a capture: which of `expected` (Info column texts) tshark did not show,
 * and the problems ipmiProblems finds. Both are empty for a good capture.
 */
export async function checkReplies(file: string, port: number, expected: string[]): Promise<{ missing: string[]; problems: string }> {
  const info = await ipmiInfo(file, port);
  return { missing: expected.filter((r) => !info.includes(r)), problems: await ipmiProblems(file, port) };
}
