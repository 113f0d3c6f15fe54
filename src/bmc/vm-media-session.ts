// The virtual media of one VM outside the daemon (`esxkit vm media`): a session, a hub and a
// backend of its own, so the CLI runs exactly the code a BMC runs.
import type { EndpointConfig, VmSelector } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { VimClientPool } from "../vsphere/pool.ts";
import { VsphereBackend } from "./vsphere-backend.ts";
import { VsphereHub } from "./vsphere-hub.ts";
import { createVsphereMedia, type VsphereMedia, type VsphereMediaSettings } from "./vsphere-media.ts";

export interface VmMediaSession {
  media: VsphereMedia;
  /** What the backend found, e.g. "vc1: vm-42 (web01) [name=web01]". */
  describe(): string;
  close(): Promise<void>;
}

export function openVmMedia(endpoint: EndpointConfig, selector: VmSelector, settings: Omit<VsphereMediaSettings, "bmcName" | "logger">, logger: Logger): VmMediaSession {
  const pool = new VimClientPool([endpoint], { logger });
  const hub = new VsphereHub({ vcenter: endpoint.name, getClient: () => pool.get(endpoint.name), logger });
  const backend = new VsphereBackend({ hub, bmcName: "cli", selector, maxStalenessMs: 60_000, logger, resolveTimeoutMs: endpoint.timeout_ms + 5_000 });
  const media = createVsphereMedia(backend, { ...settings, bmcName: selector.value, logger });
  return {
    media,
    describe: () => backend.describe(),
    async close() {
      await media.close();
      await backend.close();
      await hub.close();
      await pool.close();
    },
  };
}
