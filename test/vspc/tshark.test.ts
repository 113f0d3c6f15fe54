// Wireshark's telnet dissector as a second reader of what the vSPC sends: the bytes a VM
// received are wrapped in a TCP packet (text2pcap) and dissected. tshark 4.0 has no name for
// option 232, but it frames IAC SB … IAC SE and undoes IAC doubling on its own. It misreads a
// subnegotiation holding IAC IAC when other subnegotiations precede it in the same packet (the
// same bytes alone decode right), so the GOAHEAD goes in a packet of its own.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VmEndpoint } from "../support/vspc/vm-endpoint.ts";
import { type Harness, startHarness, until } from "./harness.ts";

const haveTshark = Bun.which("tshark") !== null && Bun.which("text2pcap") !== null;

let h: Harness | undefined;
let v: VmEndpoint | undefined;
afterEach(async () => {
  v?.close();
  await h?.close();
  h = v = undefined;
});

/** Each buffer becomes one TCP packet (text2pcap starts a packet at every offset 000000). */
function dissect(packets: Buffer[]): { optionData: string[]; data: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-vspc-"));
  const hexdump: string[] = [];
  for (const bytes of packets) {
    for (let i = 0; i < bytes.length; i += 16) hexdump.push(`${i.toString(16).padStart(6, "0")} ${[...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`);
  }
  writeFileSync(join(dir, "in.txt"), `${hexdump.join("\n")}\n`);
  const t2p = Bun.spawnSync(["text2pcap", "-q", "-T", "23,40000", join(dir, "in.txt"), join(dir, "in.pcap")], { stderr: "pipe" });
  if (t2p.exitCode !== 0) throw new Error(`text2pcap: ${t2p.stderr.toString()}`);
  const ts = Bun.spawnSync(["tshark", "-r", join(dir, "in.pcap"), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "telnet.option_data", "-e", "telnet.data"], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
  });
  if (ts.exitCode !== 0) throw new Error(`tshark: ${ts.stderr.toString()}`);
  const optionData: string[] = [];
  const data: string[] = [];
  for (const line of ts.stdout.toString().trim().split("\n")) {
    const [opt = "", d = ""] = line.split("\t");
    if (opt) optionData.push(...opt.split("|"));
    if (d) data.push(...d.split("|"));
  }
  return { optionData, data };
}

test.skipIf(!haveTshark)("tshark reads the proxy's handshake and a GOAHEAD whose secret holds 0xFF", async () => {
  const secret = Uint8Array.of(0xff, 0x00, 0xff, 0xff, 0x11, 0xf0, 0xff, 0x22);
  h = await startHarness({ secret: () => secret });
  v = await VmEndpoint.connect({ port: h.port, identity: { serviceUri: "esxkit", direction: "server", vcUuid: "u-ts", name: "ts" } });
  await until(() => h!.attached.length === 1, "attach");
  const source = v.current;
  await v.vmotion("abort", { seq: Uint8Array.of(0x01, 0xff, 0x02) });
  const wire = Buffer.concat(source.wire);
  const goahead = wire.lastIndexOf(Buffer.of(0xff, 0xfa, 232, 41));
  expect(goahead).toBeGreaterThan(0);
  const { optionData } = dissect([wire.subarray(0, goahead), wire.subarray(goahead)]);
  // KNOWN-SUBOPTIONS-2 …, WILL-PROXY, GET-VM-VC-UUID, GET-VM-NAME, then GOAHEAD seq+secret, all unescaped by tshark.
  expect(optionData[0]!.startsWith("01")).toBe(true);
  expect(optionData.slice(1, 4)).toEqual(["47", "51", "53"]);
  expect(optionData).toContain(`29${"01ff02"}${Buffer.from(secret).toString("hex")}`);
});
