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

/** What kind of failure an action met, for every front end (IPMI completion codes, Redfish statuses). */
export type FailureKind = BmcBackendError["reason"] | "no_permission" | "failed";

export function failureKind(err: unknown): FailureKind {
  if (err instanceof BmcBackendError) return err.reason;
  if (err instanceof DeadlineError) return "unavailable";
  const fault = err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
  if (fault && PRESENT_STATE_FAULTS.has(fault)) return "invalid_state";
  if (fault === "NoPermission") return "no_permission";
  return "failed";
}

const COMPLETION: Record<FailureKind, number> = {
  unsupported: CompletionCode.subFunctionDisabled,
  invalid_state: CompletionCode.notSupportedInPresentState,
  unavailable: CompletionCode.timeout,
  busy: CompletionCode.nodeBusy,
  no_permission: CompletionCode.insufficientPrivilege,
  failed: CompletionCode.unspecified,
};

export function completionCodeFor(err: unknown): number {
  return COMPLETION[failureKind(err)];
}
