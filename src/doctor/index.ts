// esxkit doctor: the public surface for the CLI.
export { runDoctor, type DoctorOptions, DEFAULT_BMC_TIMEOUT_MS } from "./run.ts";
export { endpointsFromConfig, endpointFromFlags, type EndpointFlags } from "./targets.ts";
export { renderText, shouldColor } from "./render/text.ts";
export { renderMarkdown } from "./render/markdown.ts";
export { renderJson } from "./render/json.ts";
export type { Finding, Report, Severity } from "./types.ts";
