// The config a user writes for virtual BMCs against the benchmark's simulator: one
// [vcenter.sim] and one [[bmc]] per entry, everything else at its documented default.
import type { Vcsim } from "../../test/support/vcsim.ts";

export const BMC_USER = { name: "admin", password: "s3cret-Pw" };
/** Secrets go through the environment, as config.toml recommends. */
export const bmcEnv = (sim: Vcsim) => ({ BENCH_VC: sim.password, BENCH_BMC: BMC_USER.password });

export function vcenterSection(sim: Vcsim): string {
  return `[vcenter.sim]\nurl = "${sim.url}"\nusername = "${sim.username}"\npassword = "env:BENCH_VC"\nthumbprint = "${sim.thumbprintSha256}"\n`;
}

export function bmcSection(b: { name: string; vm: string; address: string; port: number; extra?: string }): string {
  return `\n[[bmc]]\nname = "${b.name}"\nvm = "${b.vm}"\naddress = "${b.address}"\nport = ${b.port}\nusername = "${BMC_USER.name}"\npassword = "env:BENCH_BMC"\n${b.extra ?? ""}`;
}
