// A tiny raw SOAP client for the simulator's smoke tests: envelopes in, text out.
// The real client lives in src/vsphere; these tests check the simulator itself.
import type { Vcsim } from "../support/vcsim.ts";

export interface SoapReply {
  status: number;
  body: string;
}

const envelope = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
  `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
  `<soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;

export const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A session: keeps the vmware_soap_session cookie after Login. */
export class SoapSession {
  cookie = "";
  constructor(readonly vc: Vcsim) {}

  async call(inner: string): Promise<SoapReply> {
    const res = await fetch(this.vc.url, {
      method: "POST",
      headers: {
        "content-type": "text/xml; charset=utf-8",
        soapaction: "urn:vim25/6.5",
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: envelope(inner),
      tls: this.vc.certPem ? { ca: this.vc.certPem } : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    return { status: res.status, body: await res.text() };
  }

  /** Calls and throws on a fault, naming the method and the fault. */
  async ok(inner: string): Promise<string> {
    const r = await this.call(inner);
    if (r.status !== 200) throw new Error(`SOAP ${inner.slice(0, 60)}… → HTTP ${r.status}: ${r.body.slice(0, 600)}`);
    return r.body;
  }

  async login(username = this.vc.username, password = this.vc.password): Promise<SoapReply> {
    const sc = await this.serviceContent();
    return this.call(
      `<Login xmlns="urn:vim25"><_this type="SessionManager">${sc.sessionManager}</_this>` +
        `<userName>${xmlEscape(username)}</userName><password>${xmlEscape(password)}</password></Login>`,
    );
  }

  async serviceContent(): Promise<{ body: string; sessionManager: string; propertyCollector: string; rootFolder: string; searchIndex: string; eventManager: string }> {
    const body = await this.ok(`<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>`);
    return {
      body,
      sessionManager: tag(body, "sessionManager") ?? "",
      propertyCollector: tag(body, "propertyCollector") ?? "",
      rootFolder: tag(body, "rootFolder") ?? "",
      searchIndex: tag(body, "searchIndex") ?? "",
      eventManager: tag(body, "eventManager") ?? "",
    };
  }

  /** RetrievePropertiesEx of one object's properties; returns the raw response. */
  async props(type: string, moref: string, paths: string[]): Promise<string> {
    const sc = await this.serviceContent();
    return this.ok(
      `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${sc.propertyCollector}</_this><specSet>` +
        `<propSet><type>${type}</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join("")}</propSet>` +
        `<objectSet><obj type="${type}">${xmlEscape(moref)}</obj></objectSet></specSet><options/></RetrievePropertiesEx>`,
    );
  }

  /** All objects of a type under the root folder, through a ContainerView, with the given properties. */
  async list(type: string, paths: string[]): Promise<string> {
    const sc = await this.serviceContent();
    const viewMgr = tag(sc.body, "viewManager");
    const view = tag(
      await this.ok(
        `<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">${viewMgr}</_this>` +
          `<container type="Folder">${sc.rootFolder}</container><type>${type}</type><recursive>true</recursive></CreateContainerView>`,
      ),
      "returnval",
    );
    return this.ok(
      `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${sc.propertyCollector}</_this><specSet>` +
        `<propSet><type>${type}</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join("")}</propSet>` +
        `<objectSet><obj type="ContainerView">${view}</obj><skip>true</skip><selectSet xsi:type="TraversalSpec">` +
        `<name>v</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet>` +
        `<options/></RetrievePropertiesEx>`,
    );
  }

  /** Waits (bounded) for a Task to leave queued/running; returns the task info XML. */
  async waitTask(task: string, timeoutMs = 15_000): Promise<{ state: string; info: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.props("Task", task, ["info"]);
      const state = tag(info, "state") ?? "";
      if (state === "success" || state === "error") return { state, info };
      if (Date.now() > deadline) throw new Error(`task ${task} still ${state} after ${timeoutMs} ms`);
      await Bun.sleep(100);
    }
  }
}

/** Text of the first <name>…</name> element (namespace prefixes ignored). */
export function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w-]+:)?${name}>`).exec(xml);
  return m?.[1];
}

/** Texts of every <name>…</name> element. */
export function tags(xml: string, name: string): string[] {
  const re = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w-]+:)?${name}>`, "g");
  return [...xml.matchAll(re)].map((m) => m[1] ?? "");
}

/** The fault type of a SOAP fault body (from the detail element's xsi:type). */
export function faultType(xml: string): string | undefined {
  return /<(\w+)Fault\s[^>]*(?:xsi|XMLSchema-instance):type="(\w+)"/.exec(xml)?.[2] ?? /<fault\s[^>]*type="(\w+)"/.exec(xml)?.[1];
}

/** Splits a RetrievePropertiesEx reply into {moref, xml} per object. */
export function objects(xml: string): { moref: string; xml: string }[] {
  return [...xml.matchAll(/<objects>([\s\S]*?)<\/objects>/g)].map((m) => {
    const body = m[1] ?? "";
    return { moref: /<obj type="\w+">([^<]*)<\/obj>/.exec(body)?.[1] ?? "", xml: body };
  });
}

/** The moref of the object of this type whose name is `name`. */
export async function morefByName(s: SoapSession, type: string, name: string): Promise<string> {
  for (const o of objects(await s.list(type, ["name"]))) {
    if (tag(o.xml, "val") === name) return o.moref;
  }
  throw new Error(`no ${type} named ${name}`);
}
