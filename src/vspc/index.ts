export { startVspcServer } from "./server.ts";
export type { VmIdentity, VspcLimits, VspcLinkStatus, VspcServer, VspcServerOptions, VspcStats } from "./types.ts";
export { canonicalUuid } from "./uuid.ts";
