// Sends raw SLP datagrams and prints what comes back, as JSON (inside a test's namespace).
// argv[2]: JSON {bind, multicastIf?, steps: [{hex, to, port, waitMs}]}
// Output: one JSON line: [{replies: [{hex, address, port}]}] per step.
const spec = JSON.parse(process.argv[2] ?? "{}") as {
  bind: string;
  multicastIf?: string;
  steps: Array<{ hex: string; to: string; port: number; waitMs: number }>;
};
const inbox: Array<{ hex: string; address: string; port: number }> = [];
const sock = await Bun.udpSocket({
  hostname: spec.bind,
  port: 0,
  socket: {
    data(_s, data, port, address) {
      inbox.push({ hex: Buffer.from(data).toString("hex"), address, port });
    },
  },
});
if (spec.multicastIf) {
  sock.setMulticastInterface(spec.multicastIf);
  sock.setMulticastTTL(1);
}
const out: Array<{ replies: typeof inbox }> = [];
for (const s of spec.steps) {
  inbox.length = 0;
  sock.send(Buffer.from(s.hex, "hex"), s.port, s.to);
  await Bun.sleep(s.waitMs);
  out.push({ replies: inbox.splice(0) });
}
sock.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
export {};
