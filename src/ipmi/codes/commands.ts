// Command numbers the engine and client use, by network function.

/** netFn 0x06 (App). */
export const AppCmd = {
  getDeviceId: 0x01,
  coldReset: 0x02,
  warmReset: 0x03,
  getSelfTestResults: 0x04,
  getDeviceGuid: 0x08,
  getChannelAuthCapabilities: 0x38,
  getSessionChallenge: 0x39,
  activateSession: 0x3a,
  setSessionPrivilegeLevel: 0x3b,
  closeSession: 0x3c,
  getSessionInfo: 0x3d,
  getChannelAccess: 0x41,
  getChannelInfo: 0x42,
  getSystemGuid: 0x37,
  activatePayload: 0x48,
  deactivatePayload: 0x49,
  getPayloadActivationStatus: 0x4a,
  getPayloadInstanceInfo: 0x4b,
  getChannelPayloadSupport: 0x4e,
  getChannelPayloadVersion: 0x4f,
  getChannelCipherSuites: 0x54,
} as const;

/** netFn 0x00 (Chassis). */
export const ChassisCmd = {
  getChassisCapabilities: 0x00,
  getChassisStatus: 0x01,
  chassisControl: 0x02,
  chassisIdentify: 0x04,
  setSystemBootOptions: 0x08,
  getSystemBootOptions: 0x09,
} as const;

/** Chassis Control (00:02) request byte. */
export const ChassisControl = {
  powerDown: 0x00,
  powerUp: 0x01,
  powerCycle: 0x02,
  hardReset: 0x03,
  diagnosticInterrupt: 0x04,
  softShutdown: 0x05,
} as const;

/** netFn 0x0C (Transport). */
export const TransportCmd = {
  setLanConfigParams: 0x01,
  getLanConfigParams: 0x02,
  setSolConfigParams: 0x21,
  getSolConfigParams: 0x22,
} as const;
