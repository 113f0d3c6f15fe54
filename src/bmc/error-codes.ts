// How a backend failure becomes an IPMI completion code. Branches on error `code`/`reason`
// and vim25 fault types, never on message text.
import { BmcBackendError, DeadlineError, SoapFaultError, StateWriteError, TaskFailedError } from "../errors.ts";
import { CompletionCode } from "../ipmi/codes/completion.ts";

/** vim25 faults that mean "not possible in the VM's present state". */
const PRESENT_STATE_FAULTS = new Set([
  "InvalidPowerState",
  "InvalidState",
  "ToolsUnavailable",
  "TaskInProgress",
  "VmConfigIncompatibleForPowerOn",
  "InvalidDeviceSpec",
]);

export function completionCodeFor(err: unknown): number {
  if (err instanceof BmcBackendError) {
    switch (err.reason) {
      case "unsupported":
        return CompletionCode.subFunctionDisabled;
      case "invalid_state":
        return CompletionCode.notSupportedInPresentState;
      case "unavailable":
        return CompletionCode.timeout;
      case "busy":
        return CompletionCode.nodeBusy;
    }
  }
  if (err instanceof DeadlineError) return CompletionCode.timeout;
  // The one-shot boot note could not be saved, so the boot order was left unchanged. A full disk
  // is exactly C4h "out of space" (no room to store the given data). Anything else (EACCES,
  // EROFS) is D5h "not supported in present state": the request is valid and would succeed once
  // state_dir is writable, whereas FFh says nothing and D6h/C1h would claim it never works.
  if (err instanceof StateWriteError) return err.errno === "ENOSPC" || err.errno === "EDQUOT" ? CompletionCode.outOfSpace : CompletionCode.notSupportedInPresentState;
  const fault = err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
  if (fault && PRESENT_STATE_FAULTS.has(fault)) return CompletionCode.notSupportedInPresentState;
  if (fault === "NoPermission") return CompletionCode.insufficientPrivilege;
  return CompletionCode.unspecified;
}
