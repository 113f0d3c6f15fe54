// The SLP entry most tests serve: the lsi-msm profile for one ESXi host name.
import type { SlpConfig } from "../../../src/config/types.ts";

export const HOST = "esxi-main.example.jp";
export const WBEM_URL = `service:wbem:https://${HOST}:5989`;

export function slpConfig(over: Partial<SlpConfig> = {}): SlpConfig {
  return {
    name: "esx1",
    host: HOST,
    urls: [],
    lifetime: 65535,
    profile: "lsi-msm",
    attributes: {},
    vmware_infrastructure: true,
    interfaces: ["127.0.0.1"],
    scopes: ["DEFAULT"],
    port: 427,
    tcp: false,
    allow: [],
    ...over,
  };
}
