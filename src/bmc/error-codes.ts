// How a backend failure becomes an IPMI completion code. Branches on error `code`/`reason`
// and vim25 fault types, never on message text.
import { BmcBackendError, DeadlineError, SoapFaultError, TaskFailedError } from "../errors.ts";
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
  const fault = err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
  if (fault && PRESENT_STATE_FAULTS.has(fault)) return CompletionCode.notSupportedInPresentState;
  if (fault === "NoPermission") return CompletionCode.insufficientPrivilege;
  return CompletionCode.unspecified;
}
