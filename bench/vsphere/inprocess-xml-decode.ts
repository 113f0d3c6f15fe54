// XML decode throughput on a ~100 KB RetrievePropertiesEx response, with saxes as the baseline in the same run.
// Run on demand:  bun bench/vsphere/inprocess-xml-decode.ts [targetKB]
// Input: the simulator's RetrievePropertiesEx capture for VMs (test/fixtures/vim25/vcsim-vpx-rpex-vms.xml, 22 VM
// properties incl. config.hardware.device, guest, summary), its ObjectContents repeated with fresh MoRef values
// until the body reaches the target size. The shape stays that of a real answer.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { decodeResponse } from "../../src/vsphere/soap/decode.ts";
import { parseXml } from "../../src/vsphere/xml/parse.ts";
import { plainFromOurs, plainFromSaxes } from "../../test/support/vsphere/xml-trees.ts";

const targetBytes = Number(process.argv[2] ?? 100) * 1024;
const fixture = readFileSync(resolve(import.meta.dir, "../../test/fixtures/vim25/vcsim-vpx-rpex-vms.xml"), "utf8");

function buildInput(): string {
  const first = fixture.indexOf("<objects>");
  const last = fixture.lastIndexOf("</objects>") + "</objects>".length;
  const head = fixture.slice(0, first);
  const tail = fixture.slice(last);
  const blocks = fixture.slice(first, last).split("</objects>").filter(Boolean).map((b) => `${b}</objects>`);
  let body = "";
  for (let n = 0; ; n++) {
    const block = blocks[n % blocks.length] as string;
    if (head.length + body.length + block.length / 2 + tail.length > targetBytes) break;
    body += block.replace(/>vm-(\d+)</, (_m, id) => `>vm-${Number(id) + 1000 * Math.floor(n / blocks.length)}<`);
  }
  return head + body + tail;
}

/** Median ms per call over 7 rounds of at least 300 ms each, after a warm-up. */
function measure(fn: () => unknown): number {
  const until = performance.now() + 500;
  while (performance.now() < until) fn();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < 300) {
      fn();
      n++;
      t = performance.now();
    }
    rounds.push((t - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[3] as number;
}

const xml = buildInput();
const bytes = Buffer.byteLength(xml);
const objects = xml.split("<objects>").length - 1;
const propSets = xml.split("<propSet>").length - 1;
if (!isDeepStrictEqual(plainFromOurs(parseXml(xml)), plainFromSaxes(xml))) throw new Error("trees differ from saxes");

const rows: Array<[string, number]> = [
  ["esxkit parseXml (tree)", measure(() => parseXml(xml))],
  ["esxkit decodeResponse (tree + vim25)", measure(() => decodeResponse(xml))],
  ["saxes xmlns:true (same tree)", measure(() => plainFromSaxes(xml))],
];
const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
console.log(`input: ${bytes} B RetrievePropertiesExResponse, ${objects} ObjectContent, ${propSets} propSet (bun ${Bun.version})`);
for (const [name, ms] of rows) console.log(`${name.padEnd(40)} ${ms.toFixed(3).padStart(8)} ms  ${mbps(ms).toFixed(1).padStart(6)} MB/s`);
const [parse, decode, saxes] = rows.map((r) => r[1]) as [number, number, number];
console.log(`ratio vs saxes: parseXml ${(saxes / parse).toFixed(2)}x, decodeResponse ${(saxes / decode).toFixed(2)}x faster`);
