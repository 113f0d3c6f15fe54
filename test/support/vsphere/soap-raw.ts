// Raw SOAP calls for the codec's tests and the fixture capture: our envelope in, the server's bytes out.
// No session logic beyond keeping the cookie; the real client lives in src/vsphere.
import { buildRequest } from "../../../src/vsphere/soap/envelope.ts";
import type { MoRef, SoapValue } from "../../../src/vsphere/soap/types.ts";

export interface RawReply {
  status: number;
  body: string;
}

export class RawSoap {
  cookie = "";
  constructor(
    readonly url: string,
    readonly caPem?: string,
  ) {}

  async call(method: string, thisRef: MoRef, args: Array<[string, SoapValue]> = []): Promise<RawReply> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "text/xml; charset=utf-8",
        soapaction: "urn:vim25/6.5",
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: buildRequest(method, thisRef, args),
      tls: this.caPem ? { ca: this.caPem } : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    return { status: res.status, body: await res.text() };
  }
}

/** PropertyFilterSpec over a ContainerView's `view`, in WSDL field order. */
export function viewFilterSpec(view: MoRef, type: string, pathSet: string[] | "all"): SoapValue {
  return {
    propSet: [
      pathSet === "all" ? { type, all: true } : { type, all: false, pathSet },
    ],
    objectSet: [
      {
        obj: view,
        skip: true,
        selectSet: [{ $type: "TraversalSpec", name: "traverseView", type: "ContainerView", path: "view", skip: false }],
      },
    ],
  };
}

/** PropertyFilterSpec for one object. */
export function objectFilterSpec(obj: MoRef, pathSet: string[] | "all"): SoapValue {
  return {
    propSet: [pathSet === "all" ? { type: obj.type, all: true } : { type: obj.type, all: false, pathSet }],
    objectSet: [{ obj, skip: false }],
  };
}
