// Persists a pending one-shot boot restore, so that an esxkit restart between "bootdev pxe"
// and the next power-on does not leave the VM booting from PXE for ever.
// One small JSON file per BMC under <state_dir>/bmc-boot/, written atomically.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VmSelector } from "../config/types.ts";
import { StateWriteError } from "../errors.ts";
import type { BootableDevice } from "../vsphere/vim-types.ts";
import type { BootSetting } from "./backend.ts";

export interface PendingBootRestore {
  /** Which VM this is about; a file for another VM (config changed) is ignored. */
  vcenter: string;
  vm: VmSelector;
  /** The one-shot setting in force until the restore. */
  setting: BootSetting;
  /** The bootOrder to put back. */
  restoreBootOrder: BootableDevice[];
  /** The VM has booted (power-on or reset) since the one-shot was set. */
  armed: boolean;
}

export interface BootRestoreStore {
  load(): PendingBootRestore | undefined;
  save(p: PendingBootRestore): void;
  clear(): void;
}

export function fileBootRestoreStore(stateDir: string, bmcName: string): BootRestoreStore {
  const dir = join(stateDir, "bmc-boot");
  const file = join(dir, `${encodeURIComponent(bmcName)}.json`);
  return {
    load() {
      try {
        const parsed = JSON.parse(readFileSync(file, "utf8")) as PendingBootRestore;
        return parsed && Array.isArray(parsed.restoreBootOrder) && parsed.setting ? parsed : undefined;
      } catch {
        return undefined;
      }
    },
    save(p) {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(tmp, `${JSON.stringify(p)}\n`, { mode: 0o600 });
        renameSync(tmp, file);
      } catch (err) {
        throw new StateWriteError(file, (err as NodeJS.ErrnoException).code ?? "error", "the one-shot boot restore note", { cause: err });
      }
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

export function memoryBootRestoreStore(): BootRestoreStore & { value?: PendingBootRestore } {
  const store: BootRestoreStore & { value?: PendingBootRestore } = {
    load: () => (store.value ? structuredClone(store.value) : undefined),
    save: (p) => {
      store.value = structuredClone(p);
    },
    clear: () => {
      store.value = undefined;
    },
  };
  return store;
}
