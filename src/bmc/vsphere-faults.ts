// Reading vSphere faults the BMC backend branches on (fault type and the VM's existing power
// state), and the error codes that mean vCenter could not be reached in time.

/** Error codes that mean vCenter could not be reached in time. */
export const UNREACHABLE = new Set(["ESX_CONNECT", "ESX_DEADLINE", "ESX_TLS_VERIFY", "ESX_TLS_PIN", "ESX_HTTP_STATUS"]);

/** The SOAP fault type of `err`, if it is a fault. */
export function faultType(err: unknown): string | undefined {
  const f = (err as { faultType?: unknown } | null)?.faultType;
  return typeof f === "string" ? f : undefined;
}

/** The power state an InvalidPowerState fault reports the VM to be in. */
export function existingState(err: unknown): string | undefined {
  const d = (err as { detail?: Record<string, unknown> } | null)?.detail;
  return typeof d?.existingState === "string" ? d.existingState : undefined;
}
