// Golden vectors: real IPMI traffic captured on loopback (test/support/ipmi/capture-fixtures.ts)
// between ipmitool, freeipmi, pyghmi, our client and our engine, ipmi_sim, pyghmi's Bmc.
// 1. Every datagram and every clear inner payload round-trips decode → encode to the same bytes.
// 2. Our crypto re-derives, from the captured bytes and the known test password, every RAKP
//    HMAC, the session keys, and each in-session packet's integrity/MD5 code, then decrypts
//    and checksum-verifies the IPMI messages inside: the real peers and we agree on the math.
import { describe, expect, test } from "bun:test";
import { AuthType, PayloadType } from "../../src/ipmi/codes/auth-types.ts";
import { cipherSuiteById } from "../../src/ipmi/codes/cipher-suites.ts";
import {
  deriveSessionKeys,
  password16,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  rakp4IcvLength,
  rakpHash,
  userKey,
  type RakpContext,
} from "../../src/ipmi/crypto.ts";
import { openRmcpPlus, verifyIpmi15AuthCode } from "../../src/ipmi/secure.ts";
import { fromHex, readU32LE, toHex } from "../../src/ipmi/wire/bytes.ts";
import { ipmiRequestMessage, ipmiResponseMessage } from "../../src/ipmi/wire/message.ts";
import { openSessionRequest, openSessionResponse } from "../../src/ipmi/wire/open-session.ts";
import { packet, type Packet } from "../../src/ipmi/wire/packet.ts";
import { rakp1, rakp2, rakp3, rakp4 } from "../../src/ipmi/wire/rakp.ts";
import type { CaptureFixture } from "../support/ipmi/capture-fixtures.ts";
import fixturesJson from "./fixtures/captures.json";

const fixtures = fixturesJson as CaptureFixture[];

interface Decoded {
  dir: "request" | "reply";
  raw: Uint8Array;
  p: Packet;
}

function decodeAll(f: CaptureFixture): Decoded[] {
  return f.datagrams.map((d) => {
    const raw = fromHex(d.hex);
    return { dir: d.dir, raw, p: packet.decode(raw) };
  });
}

test("the fixtures cover every client/BMC pair the tests rely on", () => {
  const names = fixtures.map((f) => f.name);
  for (const n of [
    "ipmitool-lanplus-C3-engine",
    "ipmitool-lanplus-C17-engine",
    "ipmitool-lan-md5-engine",
    "ipmipower-lan20-engine",
    "pyghmi-client-engine",
    "ipmitool-lanplus-C3-ipmisim",
    "ipmitool-lan-md5-ipmisim",
    "esxkit-client-ipmisim",
    "ipmitool-lanplus-C3-pyghmi",
  ]) {
    expect(names).toContain(n);
  }
});

describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, f) => {
  test("every datagram round-trips decode → encode", () => {
    expect(f.datagrams.length).toBeGreaterThan(4);
    for (const d of decodeAll(f)) expect(toHex(packet.encode(d.p))).toBe(toHex(d.raw));
  });

  test("every clear inner payload round-trips through its codec", () => {
    let checked = 0;
    for (const { dir, p } of decodeAll(f)) {
      if (p.kind === "asf") continue;
      const s = p.session;
      if (p.kind === "rmcp+" && (s as { encrypted: boolean }).encrypted) continue;
      const payload = s.payload;
      let again: Uint8Array | undefined;
      const pt = p.kind === "rmcp+" ? p.session.payloadType : PayloadType.ipmi;
      switch (pt) {
        case PayloadType.ipmi:
          again = dir === "request" ? ipmiRequestMessage.encode(ipmiRequestMessage.decode(payload)) : ipmiResponseMessage.encode(ipmiResponseMessage.decode(payload));
          break;
        case PayloadType.openSessionRequest:
          again = openSessionRequest.encode(openSessionRequest.decode(payload));
          break;
        case PayloadType.openSessionResponse: {
          const r = openSessionResponse.decode(payload);
          // OpenIPMI cuts error responses short after the status; our encoder writes the 8-byte form.
          if (r.status !== 0 && payload.length < 8) {
            expect(r.status).not.toBe(0);
            continue;
          }
          again = openSessionResponse.encode(r);
          break;
        }
        case PayloadType.rakp1:
          again = rakp1.encode(rakp1.decode(payload));
          break;
        case PayloadType.rakp2:
          again = rakp2.encode(rakp2.decode(payload));
          break;
        case PayloadType.rakp3:
          again = rakp3.encode(rakp3.decode(payload));
          break;
        case PayloadType.rakp4:
          again = rakp4.encode(rakp4.decode(payload));
          break;
      }
      if (again) {
        expect(toHex(again)).toBe(toHex(payload));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2);
  });

  test("our crypto agrees with the peers: RAKP codes, keys, integrity, decryption", () => {
    const all = decodeAll(f);
    let verifiedMessages = 0;
    if (all.some((d) => d.p.kind === "rmcp+" && d.p.session.payloadType === PayloadType.rakp1)) {
      verifiedMessages = verifyRmcpPlus(all, f);
    } else {
      verifiedMessages = verifyIpmi15(all, f);
    }
    expect(verifiedMessages).toBeGreaterThanOrEqual(2);
  });
});

/** Walks the RMCP+ handshake(s) and every in-session packet; returns the messages verified. */
function verifyRmcpPlus(all: Decoded[], f: CaptureFixture): number {
  const kuid = userKey(f.password);
  let verified = 0;
  // Per BMC session id: what the handshake established.
  const opened = new Map<number, { consoleId: number; suiteAuth: number; integrity: number; confidentiality: number }>();
  const pendingRakp1 = new Map<number, ReturnType<typeof rakp1.decode>>();
  const established: { bmcId: number; consoleId: number; integrity: number; confidentiality: number; k1: Uint8Array; k2: Uint8Array }[] = [];
  let lastRakp: { ctx: RakpContext; auth: number; bmcId: number } | undefined;
  for (const d of all) {
    if (d.p.kind !== "rmcp+") continue;
    const s = d.p.session;
    if (s.sessionId === 0) {
      if (s.payloadType === PayloadType.openSessionResponse) {
        const r = openSessionResponse.decode(s.payload);
        if (r.status === 0) {
          opened.set(r.managedSystemSessionId, { consoleId: r.remoteConsoleSessionId, suiteAuth: r.auth, integrity: r.integrity, confidentiality: r.confidentiality });
        }
      } else if (s.payloadType === PayloadType.rakp1) {
        const m = rakp1.decode(s.payload);
        pendingRakp1.set(m.managedSystemSessionId, m);
      } else if (s.payloadType === PayloadType.rakp2) {
        const m2 = rakp2.decode(s.payload);
        if (m2.status !== 0) continue;
        const entry = [...opened.entries()].find(([, o]) => o.consoleId === m2.remoteConsoleSessionId);
        if (!entry) throw new Error("RAKP2 for a session that was never opened");
        const [bmcId, o] = entry;
        const m1 = pendingRakp1.get(bmcId);
        if (!m1) throw new Error("RAKP2 without RAKP1");
        const hash = rakpHash(o.suiteAuth);
        if (!hash) throw new Error("capture uses RAKP-none");
        const ctx: RakpContext = {
          consoleSessionId: o.consoleId,
          bmcSessionId: bmcId,
          consoleRandom: m1.consoleRandom,
          bmcRandom: m2.bmcRandom,
          bmcGuid: m2.bmcGuid,
          role: m1.role,
          username: m1.username,
        };
        expect(toHex(rakp2AuthCode(hash, kuid, ctx))).toBe(toHex(m2.keyExchangeAuthCode));
        lastRakp = { ctx, auth: o.suiteAuth, bmcId };
      } else if (s.payloadType === PayloadType.rakp3 && lastRakp) {
        const m3 = rakp3.decode(s.payload);
        if (m3.status !== 0) continue;
        const hash = rakpHash(lastRakp.auth)!;
        expect(toHex(rakp3AuthCode(hash, kuid, lastRakp.ctx))).toBe(toHex(m3.keyExchangeAuthCode));
      } else if (s.payloadType === PayloadType.rakp4 && lastRakp) {
        const m4 = rakp4.decode(s.payload);
        if (m4.status !== 0) continue;
        const hash = rakpHash(lastRakp.auth)!;
        const keys = deriveSessionKeys(hash, kuid, lastRakp.ctx);
        expect(toHex(rakp4Icv(hash, keys.sik, lastRakp.ctx, rakp4IcvLength(lastRakp.auth)))).toBe(toHex(m4.integrityCheckValue));
        const o = opened.get(lastRakp.bmcId)!;
        established.push({ bmcId: lastRakp.bmcId, consoleId: o.consoleId, integrity: o.integrity, confidentiality: o.confidentiality, k1: keys.k1, k2: keys.k2 });
      }
      continue;
    }
    const sess = established.find((e) => (d.dir === "request" ? e.bmcId : e.consoleId) === s.sessionId);
    if (!sess) throw new Error(`in-session packet for unknown session 0x${s.sessionId.toString(16)}`);
    const plain = openRmcpPlus(d.raw, s, sess);
    if (d.dir === "request") ipmiRequestMessage.decode(plain);
    else ipmiResponseMessage.decode(plain);
    verified++;
  }
  expect(established.length).toBeGreaterThan(0);
  // The handshake used the suite the fixture records.
  const want = cipherSuiteById(f.suite ?? -1)!;
  for (const e of established) {
    expect(e.integrity).toBe(want.integrity);
    expect(e.confidentiality).toBe(want.confidentiality);
  }
  return verified;
}

/** IPMI 1.5: Get Session Challenge, Activate Session, then per-message MD5 on every packet. */
function verifyIpmi15(all: Decoded[], f: CaptureFixture): number {
  const pw = password16(f.password);
  let verified = 0;
  let activeId: number | undefined;
  for (const d of all) {
    if (d.p.kind !== "ipmi15") continue;
    const s = d.p.session;
    if (s.sessionId === 0) continue;
    expect(s.authType).toBe(AuthType.md5);
    expect(verifyIpmi15AuthCode(s.authType, pw, s.sessionId, s.sequence, s.payload, s.authCode)).toBe(true);
    // A flipped bit in the message breaks the code.
    const tampered = s.payload.slice();
    tampered[tampered.length - 2]! ^= 1;
    expect(verifyIpmi15AuthCode(s.authType, pw, s.sessionId, s.sequence, tampered, s.authCode)).toBe(false);
    if (d.dir === "request") {
      const m = ipmiRequestMessage.decode(s.payload);
      if (m.cmd === 0x3a && m.netFn === 6) expect(s.sequence).toBe(0);
    } else {
      const m = ipmiResponseMessage.decode(s.payload);
      if (m.cmd === 0x3a && m.netFn === 7 && m.cc === 0) activeId = readU32LE(m.data, 1);
    }
    verified++;
  }
  expect(activeId).toBeDefined();
  return verified;
}
