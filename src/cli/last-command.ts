// The LAST COMMAND cell of `esxkit status` and `esxkit bmc list`, for people:
// "Get Chassis Status ok, 12 s ago, 10.0.0.5", or for a failure "Chassis Control failed:
// insufficient privilege level (0xd4), 3 s ago, 10.0.0.5". --json keeps the daemon's object.

/** The daemon's shape (BmcLastCommand in src/bmc/service.ts), read defensively: it crossed a socket. */
interface LastCommand {
  name?: unknown;
  cc?: unknown;
  result?: unknown;
  at?: unknown;
  peer?: unknown;
}

/** Words of command names that are abbreviations, written as the IPMI specification does. */
const ABBREVIATIONS = new Set(["bmc", "fru", "guid", "id", "lan", "pef", "sdr", "sel", "sol"]);

const hex = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

/** "get_chassis_status" → "Get Chassis Status"; "0x2c_0x00" (a command we do not know) → "NetFn 0x2c command 0x00". */
export function commandTitle(name: string): string {
  const unknown = /^0x([0-9a-f]{2})_0x([0-9a-f]{2})$/i.exec(name);
  if (unknown) return `NetFn 0x${unknown[1]} command 0x${unknown[2]}`;
  return name
    .split("_")
    .filter(Boolean)
    .map((w) => (ABBREVIATIONS.has(w) ? w.toUpperCase() : `${w[0]?.toUpperCase()}${w.slice(1)}`))
    .join(" ");
}

/** How long ago, in the coarsest unit that still says something: "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(ms: number): string {
  // A clock stepped back makes the command look as if from the future: call it now.
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** The cell's text; "-" when the BMC has answered no command yet. */
export function formatLastCommand(value: unknown, now = Date.now()): string {
  if (value === undefined || value === null) return "-";
  if (typeof value !== "object") return String(value);
  const c = value as LastCommand;
  const name = typeof c.name === "string" ? commandTitle(c.name) : "a command";
  let outcome = "ok";
  if (c.cc !== 0) {
    const cc = typeof c.cc === "number" ? c.cc : undefined;
    const why = typeof c.result === "string" ? c.result : undefined;
    // The daemon names unknown codes "completion code 0x..": the hex is in it already.
    const code = cc === undefined || why?.includes(hex(cc)) ? "" : ` (${hex(cc)})`;
    outcome = `failed: ${why ?? "completion code"}${code}`;
  }
  const parts = [`${name} ${outcome}`];
  const at = typeof c.at === "string" ? Date.parse(c.at) : Number.NaN;
  if (!Number.isNaN(at)) parts.push(ago(now - at));
  if (typeof c.peer === "string" && c.peer) parts.push(c.peer);
  return parts.join(", ");
}
