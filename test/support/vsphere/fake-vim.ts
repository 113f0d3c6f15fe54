// A scripted vim25 endpoint on loopback (plain HTTP) that replays recorded responses, for
// shapes the simulator never produces: paging tokens, truncated updates, odd faults.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { EndpointConfig } from "../../../src/config/types.ts";

const FIXTURES = resolve(import.meta.dir, "../../fixtures/vim25");

export function fixture(name: string): string {
  return readFileSync(resolve(FIXTURES, name), "utf8");
}

const HEAD =
  `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" ` +
  `xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ` +
  `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<soapenv:Body>\n`;
const TAIL = `\n</soapenv:Body>\n</soapenv:Envelope>`;

/** `<MethodResponse xmlns="urn:vim25">inner</MethodResponse>` in an envelope, as vCenter writes it. */
export function soapResponse(method: string, inner: string): string {
  return `${HEAD}<${method}Response xmlns="urn:vim25">${inner}</${method}Response>${TAIL}`;
}

/** A SOAP fault with a typed detail, as vCenter writes it. */
export function soapFault(type: string, message: string, detailInner = ""): { status: number; body: string } {
  return {
    status: 500,
    body:
      `${HEAD}<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${message}</faultstring>` +
      `<detail><${type}Fault xmlns="urn:vim25" xsi:type="${type}">${detailInner}</${type}Fault></detail></soapenv:Fault>${TAIL}`,
  };
}

export interface FakeRequest {
  method: string;
  body: string;
  cookie: string | null;
}

export type FakeReply = string | { status?: number; body: string; headers?: Record<string, string> };

export interface FakeVim {
  url: string;
  requests: FakeRequest[];
  /** Methods called, in order. */
  methods(): string[];
  endpoint(over?: Partial<EndpointConfig>): EndpointConfig;
  stop(): Promise<void>;
}

/**
 * Answers RetrieveServiceContent (ESXi shape) and Login (with a session cookie) by default;
 * everything else goes to `handler`, which may return undefined to fall back to the defaults.
 */
export function startFakeVim(handler: (req: FakeRequest) => FakeReply | undefined | Promise<FakeReply | undefined>): FakeVim {
  const requests: FakeRequest[] = [];
  let logins = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      const method = /<([A-Za-z_]+) xmlns="urn:vim25">/.exec(body)?.[1] ?? "?";
      const r: FakeRequest = { method, body, cookie: req.headers.get("cookie") };
      requests.push(r);
      let reply = await handler(r);
      if (reply === undefined && method === "RetrieveServiceContent") reply = fixture("esxi-retrieve-service-content.xml");
      if (reply === undefined && method === "Login") {
        logins++;
        return new Response(fixture("vcsim-esx-login.xml"), {
          headers: { "content-type": "text/xml", "set-cookie": `vmware_soap_session="session-${logins}"; Path=/; HttpOnly; Secure;` },
        });
      }
      if (reply === undefined && method === "Logout") reply = soapResponse("Logout", "");
      if (reply === undefined) reply = soapFault("MethodNotFound", `no script for ${method}`);
      const { status = 200, body: text, headers = {} } = typeof reply === "string" ? { body: reply } : reply;
      return new Response(text, { status, headers: { "content-type": "text/xml; charset=utf-8", ...headers } });
    },
  });
  const url = `http://127.0.0.1:${server.port}/sdk`;
  return {
    url,
    requests,
    methods: () => requests.map((r) => r.method),
    endpoint: (over = {}) => ({
      name: "fake",
      url,
      username: "root",
      password: "secret",
      tls: { mode: "insecure" },
      timeout_ms: 5000,
      ...over,
    }),
    stop: async () => {
      await server.stop(true);
    },
  };
}
