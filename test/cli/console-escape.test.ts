// `esxkit console`'s escapes after Enter (as ssh and ipmitool): "~." detaches, "~B" sends a serial
// break, "~~" types a literal tilde.
import { expect, test } from "bun:test";
import { EscapeDetector } from "../../src/cli/console.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test.each([
  { chunks: ["~."], sent: "", detach: true },
  { chunks: ["ls\r~."], sent: "ls\r", detach: true },
  { chunks: ["ls\n", "~", "."], sent: "ls\n", detach: true },
  { chunks: ["a~.b"], sent: "a~.b", detach: false },
  { chunks: ["~~."], sent: "~.", detach: false },
  { chunks: ["~x"], sent: "~x", detach: false },
  { chunks: ["\r~", "~", "."], sent: "\r~.", detach: false },
  { chunks: ["vi\r", "~"], sent: "vi\r", detach: false },
  { chunks: ["~B"], sent: "<BRK>", detach: false },
  { chunks: ["ls\r~Bh"], sent: "ls\r<BRK>h", detach: false },
  { chunks: ["\r~", "B", "s"], sent: "\r<BRK>s", detach: false },
  { chunks: ["~B~B"], sent: "<BRK><BRK>", detach: false },
  { chunks: ["~B~."], sent: "<BRK>", detach: true },
  { chunks: ["a~B"], sent: "a~B", detach: false },
  { chunks: ["~~B"], sent: "~B", detach: false },
  { chunks: ["~b"], sent: "~b", detach: false },
])("$chunks → sends $sent, detach $detach", ({ chunks, sent, detach }) => {
  const d = new EscapeDetector();
  let out = "";
  let gone = false;
  for (const c of chunks) {
    const r = d.feed(enc(c));
    for (const s of r.send) out += s.kind === "bytes" ? dec(s.bytes) : "<BRK>";
    if (r.detach) {
      gone = true;
      break;
    }
  }
  expect(out).toBe(sent);
  expect(gone).toBe(detach);
});
