// Golden vectors for the telnet codec and the option-232 payloads. The VMware vectors follow the
// code sequences printed in "Using a Proxy with Virtual Serial Ports" (e.g. DO-PROXY is
// 255 250 232 70 'S' uri 255 240).
import { describe, expect, test } from "bun:test";
import { Command, Option } from "../../src/telnet/codes.ts";
import { TelnetDecoder, type TelnetEvent } from "../../src/telnet/decoder.ts";
import { command, data, optionCommand, subnegotiation } from "../../src/telnet/encode.ts";
import { type VmwareMessage, vmwareMessage } from "../../src/telnet/vmware.ts";

const b = (...xs: (number | string)[]) => Uint8Array.from(xs.flatMap((x) => (typeof x === "string" ? [...new TextEncoder().encode(x)] : [x])));
const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

describe("data escaping", () => {
  const cases: [string, Uint8Array, Uint8Array][] = [
    ["plain", b("hi"), b("hi")],
    ["one 0xFF", b(1, 255, 2), b(1, 255, 255, 2)],
    ["only 0xFF", b(255, 255), b(255, 255, 255, 255)],
    ["empty", b(), b()],
  ];
  for (const [name, raw, wire] of cases) {
    test(name, () => {
      expect(hex(data.encode(raw))).toBe(hex(wire));
      expect(data.encodingLength(raw)).toBe(wire.length);
      const events = new TelnetDecoder().push(wire);
      expect(hex(Buffer.concat(events.map((e) => (e.type === "data" ? e.bytes : new Uint8Array()))))).toBe(hex(raw));
    });
  }
});

describe("option commands", () => {
  const cases: [OptionCmd, Uint8Array][] = [
    [{ verb: "WILL", option: Option.VMWARE }, b(255, 251, 232)],
    [{ verb: "DO", option: Option.VMWARE }, b(255, 253, 232)],
    [{ verb: "WONT", option: Option.ECHO }, b(255, 252, 1)],
    [{ verb: "DONT", option: 24 }, b(255, 254, 24)],
    [{ verb: "DO", option: Option.BINARY }, b(255, 253, 0)],
    [{ verb: "WILL", option: Option.SGA }, b(255, 251, 3)],
  ];
  for (const [cmd, wire] of cases) {
    test(`${cmd.verb} ${cmd.option}`, () => {
      expect(hex(optionCommand.encode(cmd))).toBe(hex(wire));
      expect(optionCommand.decode(wire)).toEqual(cmd);
      expect(new TelnetDecoder().push(wire)).toEqual([{ type: "option", ...cmd }]);
    });
  }
});
type OptionCmd = { verb: "WILL" | "WONT" | "DO" | "DONT"; option: number };

describe("bare commands", () => {
  test.each([
    { name: "BRK", code: Command.BRK, wire: b(255, 243) },
    { name: "NOP", code: Command.NOP, wire: b(255, 241) },
    { name: "AYT", code: Command.AYT, wire: b(255, 246) },
  ])("$name", ({ code, wire }) => {
    expect(hex(command.encode(code))).toBe(hex(wire));
    expect(command.encodingLength()).toBe(2);
    expect(new TelnetDecoder().push(wire)).toEqual([{ type: "command", command: code }]);
  });

  test.each([
    { name: "SE", code: Command.SE },
    { name: "SB", code: Command.SB },
    { name: "WILL", code: Command.WILL },
    { name: "IAC", code: Command.IAC },
    { name: "a data byte", code: 65 },
  ])("$name is refused: it is no bare command", ({ code }) => {
    expect(() => command.encode(code)).toThrow(/not a bare telnet command/);
  });
});

describe("subnegotiation", () => {
  const cases: [string, { option: number; payload: Uint8Array }, Uint8Array][] = [
    ["WILL-PROXY", { option: 232, payload: b(71) }, b(255, 250, 232, 71, 255, 240)],
    ["IAC in payload", { option: 232, payload: b(41, 1, 255, 2) }, b(255, 250, 232, 41, 1, 255, 255, 2, 255, 240)],
    ["empty payload", { option: 24, payload: b() }, b(255, 250, 24, 255, 240)],
  ];
  for (const [name, sb, wire] of cases) {
    test(name, () => {
      expect(hex(subnegotiation.encode(sb))).toBe(hex(wire));
      expect(subnegotiation.encodingLength(sb)).toBe(wire.length);
      expect(subnegotiation.decode(wire)).toEqual(sb);
      expect(new TelnetDecoder().push(wire)).toEqual([{ type: "subnegotiation", ...sb }]);
    });
  }
});

describe("streaming decoder", () => {
  const stream = b("ab", 255, 255, "c", 255, 251, 232, 255, 250, 232, 82, "vm", 255, 255, 255, 240, 255, 243, "z");
  const expected: TelnetEvent[] = [
    { type: "data", bytes: b("ab", 255, "c") },
    { type: "option", verb: "WILL", option: 232 },
    { type: "subnegotiation", option: 232, payload: b(82, "vm", 255) },
    { type: "command", command: Command.BRK },
    { type: "data", bytes: b("z") },
  ];
  const merge = (events: TelnetEvent[]): TelnetEvent[] => {
    const out: TelnetEvent[] = [];
    for (const e of events) {
      const last = out[out.length - 1];
      if (e.type === "data" && last?.type === "data") last.bytes = Buffer.concat([last.bytes, e.bytes]);
      else out.push(e.type === "data" ? { type: "data", bytes: e.bytes.slice() } : e);
    }
    return out.map((e): TelnetEvent => (e.type === "data" ? { type: "data", bytes: new Uint8Array(e.bytes) } : e));
  };
  test("every split point gives the same events", () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const d = new TelnetDecoder();
        const events = [...d.push(stream.slice(0, i)), ...d.push(stream.slice(i, j)), ...d.push(stream.slice(j))];
        expect(merge(events)).toEqual(expected);
      }
    }
  });
  test("byte at a time", () => {
    const d = new TelnetDecoder();
    expect(merge([...stream].flatMap((x) => d.push(b(x))))).toEqual(expected);
  });

  const bad: [string, Uint8Array, string][] = [
    ["IAC then a non-command", b("x", 255, 17, "y"), "bad-command"],
    ["stray SE", b(255, 240), "stray-se"],
    ["IAC inside SB", b(255, 250, 232, 1, 255, 251, 255, 240), "bad-subnegotiation"],
    ["oversized SB", b(255, 250, 232, ...new Array(17).fill(65), 255, 240), "subnegotiation-too-long"],
  ];
  for (const [name, wire, reason] of bad) {
    test(`error: ${name}`, () => {
      const d = new TelnetDecoder({ maxSubnegotiationBytes: 16 });
      const events = d.push(wire);
      expect(events.at(-1)).toMatchObject({ type: "error", reason });
      expect(d.failed).toBe(true);
      expect(d.push(b("more"))).toEqual([]);
    });
  }
  test("SB at exactly the limit is accepted", () => {
    const d = new TelnetDecoder({ maxSubnegotiationBytes: 16 });
    const events = d.push(b(255, 250, 232, ...new Array(16).fill(65), 255, 240));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "subnegotiation", option: 232 });
  });
});

describe("VMware option 232 payloads", () => {
  const seq = b(0x12, 0x34, 0x56, 0x78);
  const secret = b(0xde, 0xff, 0xad, 0x01);
  const cases: [VmwareMessage, Uint8Array][] = [
    [{ kind: "known-suboptions-1", codes: [0, 1, 40, 70, 80, 82] }, b(0, 0, 1, 40, 70, 80, 82)],
    [{ kind: "known-suboptions-2", codes: [1, 3, 41] }, b(1, 1, 3, 41)],
    [{ kind: "unknown-suboption-rcvd-2", code: 99 }, b(3, 99)],
    [{ kind: "do-proxy", direction: "server", serviceUri: "telnet://example.com" }, b(70, "S", "telnet://example.com")],
    [{ kind: "do-proxy", direction: "client", serviceUri: "vspc" }, b(70, "C", "vspc")],
    [{ kind: "will-proxy" }, b(71)],
    [{ kind: "wont-proxy" }, b(73)],
    [{ kind: "vmotion-begin", seq }, b(40, 0x12, 0x34, 0x56, 0x78)],
    [{ kind: "vmotion-goahead", seq, secret }, b(41, 0x12, 0x34, 0x56, 0x78, 0xde, 0xff, 0xad, 0x01)],
    [{ kind: "vmotion-notnow", seq }, b(43, 0x12, 0x34, 0x56, 0x78)],
    [{ kind: "vmotion-peer", seq, secret }, b(44, 0x12, 0x34, 0x56, 0x78, 0xde, 0xff, 0xad, 0x01)],
    [{ kind: "vmotion-peer-ok", seq }, b(45, 0x12, 0x34, 0x56, 0x78)],
    [{ kind: "vmotion-complete", seq }, b(46, 0x12, 0x34, 0x56, 0x78)],
    [{ kind: "vmotion-abort", seq }, b(48, 0x12, 0x34, 0x56, 0x78)],
    [{ kind: "vm-vc-uuid", value: "50 1e 2f 3a-4b 5c 6d 7e" }, b(80, "50 1e 2f 3a-4b 5c 6d 7e")],
    [{ kind: "get-vm-vc-uuid" }, b(81)],
    [{ kind: "vm-name", value: "web-01" }, b(82, "web-01")],
    [{ kind: "get-vm-name" }, b(83)],
    [{ kind: "vm-bios-uuid", value: "4230" }, b(84, "4230")],
    [{ kind: "get-vm-bios-uuid" }, b(85)],
    [{ kind: "vm-location-uuid", value: "564d" }, b(86, "564d")],
    [{ kind: "get-vm-location-uuid" }, b(87)],
    [{ kind: "unknown", code: 200, args: b(1, 2) }, b(200, 1, 2)],
  ];
  for (const [msg, payload] of cases) {
    test(msg.kind, () => {
      expect(hex(vmwareMessage.encode(msg))).toBe(hex(payload));
      expect(vmwareMessage.encodingLength(msg)).toBe(payload.length);
      expect(vmwareMessage.decode(payload)).toEqual(msg);
    });
  }
  test("GOAHEAD on the wire doubles the 0xFF in the secret", () => {
    const wire = subnegotiation.encode({ option: 232, payload: vmwareMessage.encode({ kind: "vmotion-goahead", seq, secret }) });
    expect(hex(wire)).toBe(hex(b(255, 250, 232, 41, 0x12, 0x34, 0x56, 0x78, 0xde, 255, 255, 0xad, 0x01, 255, 240)));
  });
  test("secretLength splits sequence and secret", () => {
    expect(vmwareMessage.decode(b(44, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), { secretLength: 8 })).toEqual({ kind: "vmotion-peer", seq: b(1, 2), secret: b(3, 4, 5, 6, 7, 8, 9, 10) });
  });
  const bad: [string, Uint8Array, string][] = [
    ["empty", b(), "vmware-empty"],
    ["DO-PROXY with a bad direction", b(70, "X", "uri"), "vmware-do-proxy"],
    ["DO-PROXY without direction", b(70), "vmware-do-proxy"],
    ["WILL-PROXY with arguments", b(71, 1), "vmware-extra"],
    ["UNKNOWN-SUBOPTION-RCVD-2 without code", b(3), "vmware-short"],
  ];
  for (const [name, payload, reason] of bad) {
    test(`error: ${name}`, () => {
      expect(() => vmwareMessage.decode(payload)).toThrow(expect.objectContaining({ reason, code: "ESX_TELNET_DECODE" }));
    });
  }
});

describe("random input", () => {
  // A seeded generator, so a failure replays.
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => (rnd() < 0.2 ? 255 : Math.floor(rnd() * 256)));

  test("the decoder never throws and never holds more than its limit", () => {
    for (let i = 0; i < 2000; i++) {
      const d = new TelnetDecoder({ maxSubnegotiationBytes: 32 });
      for (const e of d.push(bytes(Math.floor(rnd() * 200)))) {
        if (e.type === "subnegotiation") expect(e.payload.length).toBeLessThanOrEqual(32);
      }
    }
  });

  test("escaped data always decodes back to itself", () => {
    for (let i = 0; i < 500; i++) {
      const raw = bytes(Math.floor(rnd() * 100));
      const d = new TelnetDecoder();
      const wire = data.encode(raw);
      const cut = Math.floor(rnd() * (wire.length + 1));
      const out = [...d.push(wire.slice(0, cut)), ...d.push(wire.slice(cut))].flatMap((e) => (e.type === "data" ? [...e.bytes] : [-1]));
      expect(out).toEqual([...raw]);
    }
  });

  test("option-232 payload decoding either succeeds or throws TelnetDecodeError", () => {
    for (let i = 0; i < 2000; i++) {
      const p = bytes(Math.floor(rnd() * 12));
      if (rnd() < 0.7 && p.length > 0) p[0] = [0, 1, 2, 3, 40, 41, 43, 44, 45, 46, 48, 70, 71, 73, 80, 81, 82, 83, 84, 85, 86, 87][Math.floor(rnd() * 22)]!;
      try {
        const m = vmwareMessage.decode(p);
        expect(typeof m.kind).toBe("string");
      } catch (err) {
        expect((err as { code?: string }).code).toBe("ESX_TELNET_DECODE");
      }
    }
  });
});
