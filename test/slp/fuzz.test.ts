// Fuzzing: mutated, truncated and random datagrams through the decoder and the handler (no
// exception escapes, every reply decodes and fits), then a live run against the socket
// followed by a liveness probe. The 1-million-datagram run is in bench/slp/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SlpDecodeError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { buildEntries } from "../../src/slp/entries.ts";
import { handleRequest, type HandlerState, UDP_MAX_REPLY } from "../../src/slp/handler.ts";
import { PredicateCache } from "../../src/slp/predicate.ts";
import { SlpResponder } from "../../src/slp/responder.ts";
import { createSlpService, type SlpService } from "../../src/slp/service.ts";
import { message } from "../../src/slp/wire/index.ts";
import { mutate, Rng, seeds } from "../support/slp/fuzz.ts";
import { decode, srvRqst } from "../support/slp/requests.ts";
import { freePort, UdpProbe } from "../support/slp/udp-client.ts";
import { slpConfig } from "../support/slp/config.ts";

const cfg = slpConfig();

const ITERATIONS = 50_000;
const LIVE = 100_000;

describe("decoder and handler fuzz", () => {
  test(`${ITERATIONS} mutated datagrams: only SlpDecodeError from the decoder, nothing from the handler`, () => {
    const rng = new Rng(0x5eed1234);
    const pool = seeds();
    const state: HandlerState = { entries: buildEntries(cfg), isSelf: (a) => a === "127.0.0.1", predicates: new PredicateCache() };
    const stats = { decoded: 0, refused: 0, replies: 0, drops: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const b = mutate(rng, pool);
      try {
        message.decode(b);
        stats.decoded++;
      } catch (err) {
        if (!(err instanceof SlpDecodeError)) throw new Error(`iteration ${i}: ${String(err)} for ${Buffer.from(b).toString("hex")}`);
        stats.refused++;
      }
      const o = handleRequest(b, { sourceAddress: "10.1.1.1", localAddress: "127.0.0.1", multicast: (i & 1) === 1, maxReplyBytes: UDP_MAX_REPLY }, state);
      if (o.kind === "reply") {
        stats.replies++;
        expect(o.bytes.length).toBeLessThanOrEqual(UDP_MAX_REPLY);
        const m = message.decode(o.bytes);
        expect(m.xid).toBe((b[10]! << 8) | b[11]!);
      } else stats.drops++;
    }
    // The corpus reaches every outcome, so the run is not just bouncing off the header check.
    expect(stats.decoded).toBeGreaterThan(ITERATIONS / 20);
    expect(stats.refused).toBeGreaterThan(ITERATIONS / 20);
    expect(stats.replies).toBeGreaterThan(ITERATIONS / 50);
    expect(stats.drops).toBeGreaterThan(ITERATIONS / 20);
  }, 120_000);
});

describe("live fuzz against the socket", () => {
  let port: number;
  let responder: SlpResponder;
  let svc: SlpService;
  let probe: UdpProbe;

  beforeAll(async () => {
    port = await freePort();
    responder = new SlpResponder({ port, logger: silentLogger, multicast: false });
    await responder.start();
    svc = createSlpService({ ...cfg, port, rate_per_source: 1e9, rate_burst: 1e9, reply_bytes_per_s: 1e12 }, { logger: silentLogger, responder });
    await svc.start();
    probe = await UdpProbe.open();
  });
  afterAll(async () => {
    probe.close();
    await svc.stop();
    await responder.stop();
  });

  test(`${LIVE} datagrams, then a liveness probe`, async () => {
    const rng = new Rng(0xfeedbeef);
    const pool = seeds();
    for (let i = 0; i < LIVE; i++) {
      probe.send(mutate(rng, pool), port);
      // Yield now and then so the responder (same event loop) drains its socket.
      if (i % 64 === 63) await Bun.sleep(0);
    }
    await probe.drain(300);
    const s = svc.status();
    // Most datagrams reached the handler (the kernel may drop some under the burst).
    expect(s.requests + s.drops).toBeGreaterThan(LIVE / 2);
    const r = await probe.request(srvRqst({ xid: 0x1ee7 }), port, "127.0.0.1", 2000);
    expect(r).toBeDefined();
    const m = decode(r!.bytes);
    expect(m.xid).toBe(0x1ee7);
    expect(m.functionId === 2 && m.body.urls.length).toBe(1);
  }, 120_000);
});
