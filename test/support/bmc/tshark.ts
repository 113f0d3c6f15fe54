// tshark's view of a capture, with the IPMI payload dissected. Without
// `ipmi.dissect_bus_commands:TRUE` Wireshark 4.0 stops at the session wrapper and shows the
// IPMI message as opaque "Bus command data", so a malformed reply would go unnoticed.
import { run } from "../ipmi/peers.ts";

function args(file: string, port: number): string[] {
  return ["-r", file, "-d", `udp.port==${port},rmcp`, "-o", "ipmi.dissect_bus_commands:TRUE"];
}

/** The Info column of every frame, e.g. "Rsp, Get LAN Configuration Parameters, Parameter not supported (80h)". */
export async function ipmiInfo(file: string, port: number): Promise<string[]> {
  const r = await run("tshark", [...args(file, port), "-T", "fields", "-e", "_ws.col.Info"], 30_000);
  if (r.code !== 0) throw new Error(`tshark -r failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/**
 * Replies (frames from `port`) tshark marks malformed, or with an expert error or warning,
 * as text ("" = none). Requests are the client's business (tests send malformed ones).
 * "Undecoded" warnings (group 0x05000000: Wireshark has no parser for e.g. Get Channel
 * Info data) say nothing about the frame and are left out.
 */
export async function ipmiProblems(file: string, port: number): Promise<string> {
  const filter = `udp.srcport == ${port} && (_ws.malformed || _ws.expert.severity >= error || (_ws.expert.severity >= warning && _ws.expert.group != 0x05000000))`;
  const r = await run("tshark", [...args(file, port), "-Y", filter], 30_000);
  if (r.code !== 0) throw new Error(`tshark -r failed: ${r.stderr}`);
  return r.stdout.trim();
}
