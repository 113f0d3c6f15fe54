// The machine-readable report. `schema` names the shape so consumers can check what they parse.
import type { Report } from "../types.ts";

export const JSON_SCHEMA_ID = "esxkit-doctor/1";

export function renderJson(report: Report): string {
  return `${JSON.stringify({ schema: JSON_SCHEMA_ID, ...report }, null, 2)}\n`;
}
