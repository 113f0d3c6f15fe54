// Loads a broken config from `file` and returns the problem whose message matches: the one
// assertion path every broken-config table shares (a ConfigError, ESX_CONFIG, in that file).
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { loadConfig } from "../../../src/config/load.ts";
import { ConfigError } from "../../../src/errors.ts";

export function configProblem(file: string, toml: string | Uint8Array, message: RegExp, env: NodeJS.ProcessEnv): ConfigError {
  writeFileSync(file, toml);
  let err: unknown;
  try {
    loadConfig(file, { env });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const ce = err as ConfigError;
  expect(ce.code).toBe("ESX_CONFIG");
  const match = ce.all.find((e) => message.test(e.message));
  expect(match?.message ?? ce.all.map((e) => e.message).join("\n")).toMatch(message);
  expect(match?.file).toBe(file);
  return match as ConfigError;
}
