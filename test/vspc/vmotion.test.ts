// vMotion handovers through the fake ESXi endpoint: the link (one BytePort) survives, bytes
// toward the VM written during the handover (breaks too) come out on the winning connection, once.
import { afterEach, describe, expect, test } from "bun:test";
import type { BytePort } from "../../src/net/byte-port.ts";
import type { VmIdentity } from "../../src/vspc/types.ts";
import { type HostConnection, type VmotionMode, type VmotionResult, VmEndpoint } from "../support/vspc/vm-endpoint.ts";
import { collect, type Harness, startHarness, until } from "./harness.ts";

const ID: VmIdentity = { serviceUri: "esxkit", direction: "server", vcUuid: "42 0a", name: "db-01" };

let h: Harness | undefined;
let v: VmEndpoint | undefined;
afterEach(async () => {
  v?.close();
  v = undefined;
  await h?.close();
  h = undefined;
});

async function setup(over: Parameters<typeof startHarness>[0] = {}): Promise<{ port: BytePort }> {
  h = await startHarness(over);
  v = await VmEndpoint.connect({ port: h.port, identity: ID });
  await until(() => h!.attached.length === 1, "attach");
  return { port: h.attached[0]!.port };
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("one handover", () => {
  const cases: [VmotionMode, VmotionResult, { vmotionsCompleted: number; vmotionsAborted: number; refused: number }][] = [
    ["complete", "complete", { vmotionsCompleted: 1, vmotionsAborted: 0, refused: 0 }],
    ["abort", "aborted", { vmotionsCompleted: 0, vmotionsAborted: 1, refused: 0 }],
    ["timeout", "timed-out", { vmotionsCompleted: 0, vmotionsAborted: 1, refused: 0 }],
    ["wrong-secret", "refused", { vmotionsCompleted: 0, vmotionsAborted: 1, refused: 1 }],
  ];
  for (const [mode, result, counts] of cases) {
    test(mode, async () => {
      const { port } = await setup({ limits: { vmotionLimitMs: 300 } });
      const fromVm = collect(port);
      const closed: string[] = [];
      port.onClose((r) => closed.push(r));
      const source = v!.current;
      let wasInVmotion = false;
      const got = await v!.vmotion(mode, {
        duringHandover: () => {
          wasInVmotion = h!.server.links()[0]?.inVmotion === true;
          port.write(enc("he"));
          port.sendBreak?.();
          port.write(enc("ld"));
          v!.write(enc("frozen"));
        },
      });
      expect(got).toBe(result);
      expect(wasInVmotion).toBe(true);
      await until(() => Buffer.concat(v!.input).toString() === "held", "held bytes delivered");
      // The break waited with the bytes and came out once, between them, on the same connection.
      expect(v!.breaks).toEqual([2]);
      await until(() => fromVm.text() === "frozen", "VM output after thaw");
      expect(v!.lateOnSource).toBe(0);
      expect(closed).toEqual([]);
      expect(v!.current === source).toBe(mode !== "complete");
      expect(h!.server.stats()).toMatchObject({ links: 1, ...counts });
      expect(h!.server.links()[0]).toMatchObject({ inVmotion: false, vmotions: mode === "complete" ? 1 : 0 });
      if (mode === "complete") expect(h!.logs.some((l) => l.msg === "vMotion complete")).toBe(true);
      if (mode !== "complete") expect(h!.logs.some((l) => l.level === "warn" && l.msg.includes("vMotion"))).toBe(true);
    });
  }

  test("a secret with 0xFF goes out as IAC IAC and comes back intact", async () => {
    await setup({ secret: () => Uint8Array.of(0xff, 0x00, 0xff, 0xff, 0xf0, 0xff, 0xfa, 0xff) });
    expect(await v!.vmotion("complete")).toBe("complete");
    expect(h!.server.stats().vmotionsCompleted).toBe(1);
  });

  test("a target host that identifies itself before VMOTION-PEER is not attached as a new VM", async () => {
    await setup();
    expect(await v!.vmotion("complete", { peerAfterIdentity: true })).toBe("complete");
    expect(h!.attached).toHaveLength(1);
    expect(h!.server.stats()).toMatchObject({ links: 1, vmotionsCompleted: 1 });
  });

  test("bytes past the buffer during a handover are dropped, counted and warned about once", async () => {
    const { port } = await setup({ limits: { bufferBytes: 1024 } });
    const block = new Uint8Array(512).map((_, i) => i & 0xff);
    expect(
      await v!.vmotion("complete", {
        duringHandover: () => {
          for (let i = 0; i < 4; i++) expect(port.write(block)).toBe(true);
        },
      }),
    ).toBe("complete");
    await until(() => Buffer.concat(v!.input).length === 1024, "the first 1024 bytes");
    expect(Buffer.concat(v!.input)).toEqual(Buffer.concat([block, block]));
    expect(h!.server.stats().overflowBytes).toBe(1024);
    expect(h!.logs.filter((l) => l.msg.includes("buffer full"))).toHaveLength(1);
  });

  test("a second VMOTION-BEGIN from the source replaces the pending vMotion; from the target it gets NOTNOW", async () => {
    await setup({ limits: { vmotionLimitMs: 2000 } });
    let target: HostConnection | undefined;
    const first = v!.vmotion("timeout", { onTarget: (t) => (target = t) });
    await until(() => target?.messages.some((m) => m.kind === "vmotion-peer-ok") === true, "PEER-OK");
    target!.send({ kind: "vmotion-begin", seq: Uint8Array.of(7, 7) });
    expect(await target!.waitFor((m) => m.kind === "vmotion-notnow", "NOTNOW")).toEqual({ kind: "vmotion-notnow", seq: Uint8Array.of(7, 7) });
    v!.current.send({ kind: "vmotion-begin", seq: Uint8Array.of(9, 9) });
    const again = await v!.current.waitFor((m) => m.kind === "vmotion-goahead" && m.seq[0] === 9, "second GOAHEAD");
    expect(again).toMatchObject({ kind: "vmotion-goahead", seq: Uint8Array.of(9, 9) });
    expect(await first).toBe("timed-out");
    expect(h!.server.stats().vmotionsAborted).toBe(1);
    expect(h!.server.links()[0]!.inVmotion).toBe(true);
  });

  test("the secret is never logged", async () => {
    const secret = Uint8Array.of(0xc0, 0xff, 0xee, 0x11, 0x22, 0x33, 0x44, 0x55);
    await setup({ secret: () => secret });
    await v!.vmotion("complete");
    const text = JSON.stringify(h!.logs);
    expect(text).not.toContain(Buffer.from(secret).toString("hex"));
    expect(text).not.toContain(Buffer.from(secret).toString("base64"));
  });
});

/** Big-endian 32-bit counters: a lost, doubled or reordered byte breaks the run. */
class CounterStream {
  next = 0;
  chunk(n: number): Uint8Array {
    const out = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) out.writeUInt32BE((this.next++ * 0x01010101 + 0xfd) >>> 0, i * 4);
    return out;
  }
}
class CounterCheck {
  count = 0;
  errors = 0;
  private carry = Buffer.alloc(0);
  push(bytes: Uint8Array): void {
    let buf = Buffer.concat([this.carry, bytes]);
    while (buf.length >= 4) {
      if (buf.readUInt32BE(0) !== (this.count * 0x01010101 + 0xfd) >>> 0) this.errors++;
      this.count++;
      buf = buf.subarray(4);
    }
    this.carry = Buffer.from(buf);
  }
}

test("100 vMotion handovers while counters flow both ways: nothing lost or doubled", async () => {
  const { port } = await setup();
  const toVm = new CounterStream();
  const fromVm = new CounterStream();
  const atVm = new CounterCheck();
  const atHolder = new CounterCheck();
  port.onData((b) => atHolder.push(b));
  v!.onInput((b) => atVm.push(b));
  let running = true;
  const pump = (async () => {
    while (running) {
      port.write(toVm.chunk(64));
      v!.write(fromVm.chunk(64));
      await Bun.sleep(1);
    }
  })();
  const results: VmotionResult[] = [];
  let heldChunks = 0;
  const during = () => {
    // Bytes written while the proxy holds them, and VM output while the VM is frozen.
    if (h!.server.links()[0]?.inVmotion) heldChunks++;
    port.write(toVm.chunk(16));
    v!.write(fromVm.chunk(16));
  };
  for (let i = 0; i < 100; i++) results.push(await v!.vmotion("complete", { duringHandover: during }));
  running = false;
  await pump;
  await until(() => atVm.count === toVm.next && atHolder.count === fromVm.next, "all counters delivered", 5000);
  expect(results.every((r) => r === "complete")).toBe(true);
  expect(atVm.errors).toBe(0);
  expect(atHolder.errors).toBe(0);
  expect(atVm.count).toBe(toVm.next);
  expect(atHolder.count).toBe(fromVm.next);
  expect(heldChunks).toBe(100);
  expect(toVm.next).toBeGreaterThan(100 * 16);
  expect(v!.lateOnSource).toBe(0);
  expect(h!.server.stats()).toMatchObject({ vmotionsCompleted: 100, vmotionsAborted: 0, links: 1, overflowBytes: 0, bytesToVm: toVm.next * 4, bytesFromVm: fromVm.next * 4 });
  expect(h!.server.links()[0]!.vmotions).toBe(100);
  await until(() => h!.server.stats().connections === 1, "old connections closed");
}, 30_000);
