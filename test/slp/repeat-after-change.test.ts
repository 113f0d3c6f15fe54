// A repeated query is answered from the memo and the reply cache, so both must forget what
// they hold when the served entries change: the same request bytes after a reload name the
// new entry, and after the last entry stops they get no reply at all.
import { afterAll, expect, test } from "bun:test";
import { silentLogger } from "../../src/log/logger.ts";
import { SlpResponder } from "../../src/slp/responder.ts";
import { createSlpService } from "../../src/slp/service.ts";
import { slpConfig } from "../support/slp/config.ts";
import { decode, srvRqst } from "../support/slp/requests.ts";
import { freePort, UdpProbe } from "../support/slp/udp-client.ts";

const limits = { rate_per_source: 100_000, rate_burst: 100_000, reply_bytes_per_s: 1 << 30 };
const probe = await UdpProbe.open();
const port = await freePort();
const responder = new SlpResponder({ port, logger: silentLogger, multicast: false });
await responder.start();
afterAll(async () => {
  probe.close();
  await responder.stop();
});

async function urls(xid: number): Promise<string[] | undefined> {
  const r = await probe.request(srvRqst({ xid }), port, "127.0.0.1", 1000);
  if (!r) return undefined;
  const m = decode(r.bytes) as { xid: number; body: { urls: Array<{ url: string }> } };
  expect(m.xid).toBe(xid);
  return m.body.urls.map((u) => u.url);
}

test("the same request after a reload names the new entry, and after a stop gets nothing", async () => {
  const first = createSlpService(slpConfig({ name: "e", host: "old.example.jp", port, vmware_infrastructure: false, ...limits }), { logger: silentLogger, responder });
  await first.start();
  for (let xid = 1; xid <= 3; xid++) expect(await urls(xid)).toEqual(["service:wbem:https://old.example.jp:5989"]);
  // A retransmission (same XID, same bytes) is answered from the reply cache as before.
  expect(await urls(3)).toEqual(["service:wbem:https://old.example.jp:5989"]);

  await first.stop();
  const second = createSlpService(slpConfig({ name: "e", host: "new.example.jp", port, vmware_infrastructure: false, ...limits }), { logger: silentLogger, responder });
  await second.start();
  expect(await urls(4)).toEqual(["service:wbem:https://new.example.jp:5989"]);
  expect(await urls(3)).toEqual(["service:wbem:https://new.example.jp:5989"]);

  await second.stop();
  expect(await urls(5)).toBeUndefined();
});
