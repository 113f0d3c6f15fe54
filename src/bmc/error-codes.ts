// How a backend failure becomes an IPMI completion code (and, through failureKind, a Redfish
// status). Branches on error `code`/`reason` and vim25 fault types, never on message text.
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

/** What kind of failure an action met, for every front end (IPMI completion codes, Redfish statuses). */
export type FailureKind = BmcBackendError["reason"] | "no_permission" | "no_space" | "failed";

export function failureKind(err: unknown): FailureKind {
  if (err instanceof BmcBackendError) return err.reason;
  if (err instanceof DeadlineError) return "unavailable";
  // The one-shot boot note could not be saved, so the boot order was left unchanged. A full
  // disk is "no space"; anything else (EACCES, EROFS) is a present-state problem: the request
  // is valid and would succeed once state_dir is writable.
  if (err instanceof StateWriteError) return err.errno === "ENOSPC" || err.errno === "EDQUOT" ? "no_space" : "invalid_state";
  const fault = err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
  if (fault && PRESENT_STATE_FAULTS.has(fault)) return "invalid_state";
  if (fault === "NoPermission") return "no_permission";
  return "failed";
}

// C4h is exactly "out of space" (no room to store the given data); D5h "not supported in
// present state" rather than FFh (says nothing) or D6h/C1h (would claim it never works).
const COMPLETION: Record<FailureKind, number> = {
  unsupported: CompletionCode.subFunctionDisabled,
  invalid_state: CompletionCode.notSupportedInPresentState,
  unavailable: CompletionCode.timeout,
  busy: CompletionCode.nodeBusy,
  no_permission: CompletionCode.insufficientPrivilege,
  no_space: CompletionCode.outOfSpace,
  failed: CompletionCode.unspecified,
};

export function completionCodeFor(err: unknown): number {
  return COMPLETION[failureKind(err)];
}
