// The watchdog's sense of time, injectable so tests can jump past pause TTLs and backoffs.
import { defaultSleep } from "./fence.ts";

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: defaultSleep };
