// The compiled binary, as users run it, for tests outside test/daemon: one build per test
// process, shared with the serve helpers.
import { binary, buildBinary as build } from "./daemon/serve.ts";

export { binary, root } from "./daemon/serve.ts";

/** Builds dist/esxkit from the working tree unless this process already did; returns its path. */
export function buildBinary(): string {
  build();
  return binary;
}
