// Writes SLP datagrams into a classic pcap (LINKTYPE_RAW: bare IPv4) so tshark's srvloc
// dissector can judge them. Addresses are loopback only; the file never goes on a wire.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PcapPacket {
  payload: Uint8Array;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  /** UDP (default) or a TCP segment carrying the payload. */
  tcp?: boolean;
}

function ipBytes(a: string): number[] {
  return a.split(".").map((x) => Number(x) & 0xff);
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function ipv4Packet(p: PcapPacket, seq: number): Uint8Array {
  const src = ipBytes(p.src ?? "127.0.0.1");
  const dst = ipBytes(p.dst ?? "127.0.0.1");
  const sport = p.srcPort ?? 40000;
  const dport = p.dstPort ?? 427;
  const l4len = p.tcp ? 20 : 8;
  const total = 20 + l4len + p.payload.length;
  const out = new Uint8Array(total);
  out.set([0x45, 0, total >> 8, total & 0xff, 0, seq & 0xff, 0x40, 0, 64, p.tcp ? 6 : 17, 0, 0, ...src, ...dst]);
  const hc = checksum(out.subarray(0, 20));
  out[10] = hc >> 8;
  out[11] = hc & 0xff;
  const l4 = out.subarray(20);
  if (p.tcp) {
    // A PSH|ACK segment; tshark needs no handshake to dissect a whole message in one segment.
    l4.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
  } else {
    const ulen = 8 + p.payload.length;
    l4.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, ulen >> 8, ulen & 0xff, 0, 0]);
  }
  out.set(p.payload, 20 + l4len);
  return out;
}

export function pcapBytes(packets: PcapPacket[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const gh = new DataView(new ArrayBuffer(24));
  gh.setUint32(0, 0xa1b2c3d4, true);
  gh.setUint16(4, 2, true);
  gh.setUint16(6, 4, true);
  gh.setUint32(16, 65535, true);
  gh.setUint32(20, 101, true); // LINKTYPE_RAW
  parts.push(new Uint8Array(gh.buffer));
  packets.forEach((p, i) => {
    const pkt = ipv4Packet(p, i);
    const rh = new DataView(new ArrayBuffer(16));
    rh.setUint32(0, 1_700_000_000 + i, true);
    rh.setUint32(8, pkt.length, true);
    rh.setUint32(12, pkt.length, true);
    parts.push(new Uint8Array(rh.buffer), pkt);
  });
  return Buffer.concat(parts);
}

export interface TsharkResult {
  /** Frame numbers tshark marked malformed (expert info `_ws.malformed`). */
  malformed: number[];
  /** One object per frame: srvloc field name → values (from `-T ek`-like field export). */
  fields: Record<string, string>[];
  raw: string;
}

/** Runs tshark over the packets and returns malformed frames plus the requested srvloc fields. */
export function tshark(packets: PcapPacket[], fieldNames: string[] = []): TsharkResult {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-slp-pcap-"));
  try {
    const file = join(dir, "slp.pcap");
    writeFileSync(file, pcapBytes(packets));
    const extra = packets.some((p) => p.tcp) ? ["-o", "tcp.check_checksum:FALSE"] : [];
    const mal = spawnSync("tshark", ["-n", "-r", file, ...extra, "-Y", "_ws.malformed || srvloc.malformed", "-T", "fields", "-e", "frame.number"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (mal.status !== 0) throw new Error(`tshark failed: ${mal.stderr}`);
    const malformed = mal.stdout.split("\n").filter(Boolean).map(Number);
    const fields: Record<string, string>[] = [];
    let raw = "";
    if (fieldNames.length > 0) {
      const args = ["-n", "-r", file, ...extra, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"];
      for (const f of fieldNames) args.push("-e", f);
      const r = spawnSync("tshark", args, { encoding: "utf8", timeout: 30_000 });
      if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
      raw = r.stdout;
      for (const line of r.stdout.split("\n").filter((l) => l.length > 0)) {
        const cols = line.split("\t");
        const rec: Record<string, string> = {};
        fieldNames.forEach((f, i) => {
          rec[f] = cols[i] ?? "";
        });
        fields.push(rec);
      }
    }
    return { malformed, fields, raw };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The full `-V` dissection text, for a human reading a failure. */
export function tsharkVerbose(packets: PcapPacket[]): string {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-slp-pcap-"));
  try {
    const file = join(dir, "slp.pcap");
    writeFileSync(file, pcapBytes(packets));
    return spawnSync("tshark", ["-n", "-r", file, "-V", "-O", "srvloc"], { encoding: "utf8", timeout: 30_000 }).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
