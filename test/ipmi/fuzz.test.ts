// 100 000 random, mutated and structure-aware datagrams into one engine: handleDatagram
// never throws or rejects, the session table stays within its cap, and the engine still
// answers a ping and a real client session afterwards.
import { expect, test } from "bun:test";
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { PayloadType } from "../../src/ipmi/codes/auth-types.ts";
import { sealIpmi15, sealRmcpPlus, sealRmcpPlusSessionless } from "../../src/ipmi/secure.ts";
import { IpmiSessionEngine } from "../../src/ipmi/server/engine.ts";
import { bindIpmiUdp } from "../../src/ipmi/server/udp.ts";
import { fromHex } from "../../src/ipmi/wire/bytes.ts";
import { ipmiRequestMessage } from "../../src/ipmi/wire/message.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { ADMIN, OPERATOR, TEST_GUID } from "../support/ipmi/peers.ts";
import { SOURCE, rawSession } from "../support/ipmi/raw.ts";
import fixtures from "./fixtures/captures.json";

const TOTAL = 100_000;
const SEED = Number(process.env.IPMI_FUZZ_SEED ?? 0x5eed1234);

/** xorshift32: reproducible with IPMI_FUZZ_SEED. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

test(`${TOTAL} hostile datagrams never throw, and the engine still serves afterwards (seed 0x${SEED.toString(16)})`, async () => {
  const rnd = prng(SEED);
  const chassis = fakeChassis(TEST_GUID);
  // Limits out of the way: this drives thousands of session setups from one source on purpose
  // (the limits themselves are tested in login-limits.test.ts).
  const loginLimits = { perSourcePerMinute: 1e9, perUserPerMinute: 1e9 };
  const engine = new IpmiSessionEngine({ users: [ADMIN, OPERATOR], guid: TEST_GUID, handler: chassis.handler, ipmi15: true, maxSessions: 8, loginLimits });
  const corpus = (fixtures as { datagrams: { hex: string }[] }[]).flatMap((f) => f.datagrams.map((d) => fromHex(d.hex)));

  // A genuine session whose keys we know, so structure-aware requests pass integrity.
  let session = await rawSession(engine, ADMIN);
  const before = engine.stats().sessionsOpened;

  const randomMessage = (): Uint8Array => {
    const netFn = rnd.int(4) === 0 ? 0x06 : rnd.int(0x40);
    const cmd = netFn === 0x06 ? [0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x54, 0x01, rnd.int(256)][rnd.int(8)]! : rnd.int(256);
    return ipmiRequestMessage.encode({ rsAddr: 0x20, netFn, rsLun: rnd.int(4), rqAddr: 0x81, rqSeq: rnd.int(64), rqLun: 0, cmd, data: rnd.bytes(rnd.int(24)) });
  };

  let exceptions = 0;
  for (let i = 0; i < TOTAL; i++) {
    let d: Uint8Array;
    const kind = i % 10;
    if (kind < 3) {
      d = rnd.bytes(rnd.int(300));
    } else if (kind < 6) {
      const base = corpus[rnd.int(corpus.length)]!.slice();
      const flips = 1 + rnd.int(4);
      for (let f = 0; f < flips; f++) {
        const j = rnd.int(base.length);
        base[j] = base[j]! ^ (1 << rnd.int(8));
      }
      d = rnd.int(4) === 0 ? base.subarray(0, rnd.int(base.length + 1)) : base;
    } else if (kind === 6) {
      d = rnd.int(2) ? sealIpmi15(0, 0, 0, randomMessage()) : sealRmcpPlusSessionless(PayloadType.ipmi, randomMessage());
    } else if (kind === 7) {
      const pt = [PayloadType.openSessionRequest, PayloadType.rakp1, PayloadType.rakp3][rnd.int(3)]!;
      d = sealRmcpPlusSessionless(pt, rnd.bytes(rnd.int(60)));
    } else {
      // In-session: a correctly sealed random request (sometimes Close Session, which
      // ends the session: then open another).
      d = sealRmcpPlus(PayloadType.ipmi, session.bmcId, ++session.seq, randomMessage(), session.sec);
    }
    try {
      await engine.handleDatagram(d, SOURCE);
    } catch {
      exceptions++;
    }
    if (kind >= 8 && i % 97 === 0 && engine.activeSessionCount() === 0) session = await rawSession(engine, ADMIN);
    expect(engine.sessionCount()).toBeLessThanOrEqual(8);
  }
  expect(exceptions).toBe(0);
  const stats = engine.stats();
  if (process.env.IPMI_FUZZ_VERBOSE) console.log(stats);
  expect(stats.datagramsIn).toBeGreaterThanOrEqual(TOTAL);
  expect(stats.handlerCalls).toBeGreaterThan(1000); // structure-aware requests got through
  expect(stats.sessionsOpened).toBeGreaterThanOrEqual(before);

  // Still alive: a ping, then a real client over UDP.
  const pong = await engine.handleDatagram(new Uint8Array([6, 0, 0xff, 6, 0, 0, 0x11, 0xbe, 0x80, 7, 0, 0]), SOURCE);
  expect(pong?.length).toBe(28);
  const b = await bindIpmiUdp("127.0.0.1", 0, engine);
  try {
    const c = await IpmiClient.connect({ host: "127.0.0.1", port: b.address().port, username: ADMIN.name, password: ADMIN.password, connectTimeoutMs: 5000 });
    await c.chassisControl("on");
    expect((await c.chassisStatus()).powerOn).toBe(true);
    await c.close();
  } finally {
    await b.close();
  }
}, 240_000);
