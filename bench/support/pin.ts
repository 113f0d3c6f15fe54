// BENCH_PIN=1: the load generator on CPU 0, every server under test on CPU 1 (taskset), so
// on a 2-core machine the two never queue behind each other. Servers and baselines are pinned
// alike, so the same-run ratios stay fair; without it the scheduler decides, as it does in use.
const PIN = process.env.BENCH_PIN === "1";

/** `cmd`, run on the generator's CPU when pinning. */
export const onGeneratorCpu = (cmd: string[]): string[] => (PIN ? ["taskset", "-c", "0", ...cmd] : cmd);
/** `cmd`, run on the server's CPU when pinning. */
export const onServerCpu = (cmd: string[]): string[] => (PIN ? ["taskset", "-c", "1", ...cmd] : cmd);
export const pinned = PIN;
