// Privilege levels and the level each command needs by default (IPMI v2.0 appendix G).
export const PrivilegeLevel = {
  /** Get Channel Auth Capabilities / Set Session Privilege: "highest the user may have". */
  highest: 0x00,
  callback: 0x01,
  user: 0x02,
  operator: 0x03,
  administrator: 0x04,
  oem: 0x05,
} as const;

const NAMES = ["none", "callback", "user", "operator", "administrator", "oem"];

export function privilegeName(level: number): string {
  return NAMES[level] ?? `privilege ${level}`;
}

/** netFn:cmd → level, for commands that need more than "user". */
const ABOVE_USER: Record<string, number> = {
  // Chassis
  "0:2": PrivilegeLevel.operator, // Chassis Control
  "0:3": PrivilegeLevel.operator, // Chassis Reset
  "0:4": PrivilegeLevel.operator, // Chassis Identify
  "0:5": PrivilegeLevel.administrator, // Set Chassis Capabilities
  "0:6": PrivilegeLevel.administrator, // Set Power Restore Policy
  "0:8": PrivilegeLevel.operator, // Set System Boot Options
  "0:9": PrivilegeLevel.operator, // Get System Boot Options
  "0:10": PrivilegeLevel.administrator, // Set Front Panel Enables
  "0:11": PrivilegeLevel.operator, // Set Power Cycle Interval
  // App
  "6:2": PrivilegeLevel.administrator, // Cold Reset
  "6:3": PrivilegeLevel.administrator, // Warm Reset
  "6:34": PrivilegeLevel.operator, // Reset Watchdog Timer
  "6:36": PrivilegeLevel.operator, // Set Watchdog Timer
  "6:40": PrivilegeLevel.administrator, // Set Channel Access
  "6:67": PrivilegeLevel.administrator, // Set User Access
  "6:69": PrivilegeLevel.administrator, // Set User Name
  "6:71": PrivilegeLevel.administrator, // Set User Password
  "6:72": PrivilegeLevel.user, // Activate Payload (SOL)
  // Transport
  "12:1": PrivilegeLevel.administrator, // Set LAN Configuration Parameters
  "12:2": PrivilegeLevel.operator, // Get LAN Configuration Parameters
  "12:33": PrivilegeLevel.administrator, // Set SOL Configuration Parameters
};

/** Commands allowed before a session exists (sessionless, privilege 0). */
const SESSIONLESS = new Set<string>(["6:56", "6:57", "6:84"]);

/**
 * The default privilege a command needs. Unknown and group-extension commands need
 * "user", so a probe such as ipmitool's PICMG query reaches the handler and gets 0xC1.
 */
export function defaultRequiredPrivilege(netFn: number, cmd: number): number {
  const key = `${netFn}:${cmd}`;
  if (SESSIONLESS.has(key)) return PrivilegeLevel.highest;
  const above = ABOVE_USER[key];
  if (above !== undefined) return above;
  return PrivilegeLevel.user;
}
