// Commands that only read state. A client retry of one of these (same rqSeq, new session
// sequence) is executed again rather than answered from the response cache: running a read
// twice is harmless, and a client that reuses rqSeq must never be shown a stale power state.
const READ_ONLY = new Set<number>([
  0x0000, // Get Chassis Capabilities
  0x0001, // Get Chassis Status
  0x0009, // Get System Boot Options
  0x000f, // Get POH Counter
  0x0601, // Get Device ID
  0x0604, // Get Self Test Results
  0x0608, // Get Device GUID
  0x0625, // Get Watchdog Timer
  0x0637, // Get System GUID
  0x0638, // Get Channel Authentication Capabilities
  0x063d, // Get Session Info
  0x0641, // Get Channel Access
  0x0642, // Get Channel Info
  0x0644, // Get User Access
  0x0646, // Get User Name
  0x064a, // Get Payload Activation Status
  0x064b, // Get Payload Instance Info
  0x064e, // Get Channel Payload Support
  0x064f, // Get Channel Payload Version
  0x0654, // Get Channel Cipher Suites
  0x0c02, // Get LAN Configuration Parameters
  0x0c22, // Get SOL Configuration Parameters
]);

export function isReadOnlyCommand(netFn: number, cmd: number): boolean {
  return READ_ONLY.has(((netFn & 0x3f) << 8) | cmd);
}
