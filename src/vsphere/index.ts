// The vim25 client's public surface. Subsystems import from here (or from the individual
// modules); nothing outside src/vsphere needs the SOAP or XML layers directly.
export { VimClient, probeServiceContent, type CallOptions, type ClientStats, type VimClientOptions } from "./client.ts";
export { VimClientPool } from "./pool.ts";
export { createHttpAgent, postText, type ConnectionInfo, type HttpAgentOptions } from "./transport.ts";
export { certificateThumbprints, fetchServerCertificate, thumbprintMatches, type ServerCertificate, type Thumbprints } from "./thumbprint.ts";
export { normalizeThumbprint } from "../config/thumbprint.ts";
export {
  createContainerView,
  createListView,
  destroyView,
  retrieveOne,
  retrieveProperties,
  retrieveWithSpec,
  type ObjectProps,
  type PropertyQuery,
} from "./properties.ts";
export { PropertyWatch, type ObjectUpdate, type UpdateKind, type WatchOptions, type WatchTarget } from "./watch.ts";
export {
  findByDatastorePath,
  findByInventoryPath,
  findByUuid,
  findVm,
  listVms,
  matchVm,
  normalizeUuid,
  VM_IDENTITY_PATHS,
  type VmIdentity,
} from "./search.ts";
export { DEFAULT_TASK_TIMEOUT_MS, taskInfo, waitForTask, type WaitForTaskOptions } from "./tasks.ts";
export {
  answerVm,
  findChoice,
  getBootConfig,
  getPowerState,
  isInvalidPowerState,
  listDevices,
  pollQuestion,
  powerOffVm,
  powerOnVm,
  rebootGuest,
  reconfigVm,
  registerVm,
  resetVm,
  shutdownGuest,
  unregisterVm,
  VM_BMC_PATHS,
  type RegisterVmSpec,
  type TaskOptions,
  type VmConfigChange,
} from "./vm.ts";
export {
  defaultHost,
  getFirewallRulesets,
  getHostProperties,
  getHostServices,
  hostDatastores,
  listHosts,
  HOST_DOCTOR_PATHS,
  type FirewallRuleset,
  type HostService,
} from "./host.ts";
export {
  addSerialPortSpec,
  bmcNameOfServiceUri,
  describeSerialPort,
  editSerialPortSpec,
  esxkitServiceUri,
  ESXKIT_SERVICE_URI_PREFIX,
  planSerialAttach,
  planSerialDetach,
  removeSerialPortSpec,
  serialDifferences,
  serialPortsOf,
  type SerialBacking,
  type SerialPlan,
  type SerialPort,
  type SerialTarget,
} from "./serial-port.ts";
export {
  attachSerialPort,
  detachSerialPort,
  readSerialFirewall,
  readSerialState,
  SERIAL_RULESETS,
  type SerialAttachResult,
  type SerialDetachResult,
  type SerialFirewall,
  type VmSerialState,
} from "./serial-console.ts";
export { postEvent, queryEvents, toEvent, type EventQuery, type PostEventSpec } from "./events.ts";
export { arr, bool, moref, num, obj, refKey, sameRef, str, toBootOptions, toDevices, toQuestion } from "./convert.ts";
export type * from "./vim-types.ts";
