// The SLPv2 wire codec (RFC 2608). Imports nothing from the rest of src/slp.
export * from "./function-ids.ts";
export * from "./error-codes.ts";
export type { Codec } from "./codec.ts";
export { fromHex, toHex } from "./bytes.ts";
export * from "./header.ts";
export * from "./extensions.ts";
export * from "./string-list.ts";
export * from "./auth-block.ts";
export * from "./url-entry.ts";
export * from "./srv-rqst.ts";
export * from "./srv-rply.ts";
export * from "./attr-rqst.ts";
export * from "./attr-rply.ts";
export * from "./srv-type-rqst.ts";
export * from "./srv-type-rply.ts";
export * from "./sa-advert.ts";
export * from "./message.ts";
