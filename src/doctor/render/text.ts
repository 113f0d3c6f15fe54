// The human report: one table per severity (critical first), each finding with its evidence,
// fix and sources underneath. Colour only when asked (the CLI asks on a TTY without NO_COLOR).
import { type Finding, type Report, SEVERITIES_DESC, type Severity } from "../types.ts";

export interface TextOptions {
  color: boolean;
  /** Total line width; text in the FINDING column wraps to fit. */
  width?: number;
  /** Show the evidence of "ok" findings too. */
  verbose?: boolean;
}

const SGR: Record<Severity | "dim" | "bold", string> = {
  critical: "\x1b[1;31m",
  warning: "\x1b[1;33m",
  info: "\x1b[36m",
  ok: "\x1b[32m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
};
const RESET = "\x1b[0m";

const CHECK_NAMES: Record<Finding["check"], string> = {
  endpoint: "endpoint",
  evc: "evc",
  "upgrade-order": "upgrade-order",
  "usb-boot": "usb-boot",
  "msm-discovery": "msm-discovery",
  watchdog: "watchdog",
  "serial-console": "serial-console",
};

/** Whether to colour a stream: a TTY, and NO_COLOR (https://no-color.org) unset or empty. */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true;
}

/** Greedy word wrap; words longer than the width are cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (let word of para.split(/\s+/).filter(Boolean)) {
      while (word.length > width) {
        if (line) {
          lines.push(line);
          line = "";
        }
        lines.push(word.slice(0, width));
        word = word.slice(width);
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** "VMware KB 83376 / Broadcom KB 318611: …" → the part before the colon. */
export function shortSourceTitle(title: string): string {
  const i = title.indexOf(":");
  return i > 0 ? title.slice(0, i) : title;
}

export function renderText(report: Report, opts: TextOptions): string {
  const paint = (style: keyof typeof SGR, s: string) => (opts.color ? `${SGR[style]}${s}${RESET}` : s);
  const width = Math.max(80, opts.width ?? 100);
  const out: string[] = [];

  out.push(paint("bold", `esxkit doctor ${report.esxkitVersion} — ${report.generatedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}`));
  for (const t of report.targets) {
    out.push(`  ${t.kind.padEnd(7)} ${t.name}  ${t.url}  ${t.error ? paint("critical", `unreachable: ${t.error}`) : (t.product ?? "")}`);
  }

  const checkW = Math.max(5, ...report.findings.map((f) => CHECK_NAMES[f.check].length));
  const targetW = Math.min(28, Math.max(6, ...report.findings.map((f) => f.target.length)));
  const indent = 2 + checkW + 2 + targetW + 2;
  const textW = width - indent;
  const pad = " ".repeat(indent);

  for (const sev of SEVERITIES_DESC) {
    const group = report.findings.filter((f) => f.severity === sev);
    if (group.length === 0) continue;
    out.push("", paint(sev, `${sev.toUpperCase()} (${group.length})`));
    out.push(paint("dim", `  ${"CHECK".padEnd(checkW)}  ${"TARGET".padEnd(targetW)}  FINDING`));
    for (const f of group) {
      const target = f.target.length > targetW ? `${f.target.slice(0, targetW - 1)}…` : f.target;
      const [first = "", ...rest] = wrap(f.title, textW);
      out.push(`  ${CHECK_NAMES[f.check].padEnd(checkW)}  ${target.padEnd(targetW)}  ${paint(sev, first)}`);
      for (const l of rest) out.push(pad + paint(sev, l));
      if (sev === "ok" && !opts.verbose) continue;
      for (const e of f.evidence) {
        for (const [i, l] of wrap(`${e.object}  ${e.property} = ${e.value}`, textW - 2).entries()) out.push(pad + paint("dim", `${i ? "  " : "· "}${l}`));
      }
      if (f.fix) for (const [i, l] of wrap(`fix: ${f.fix}`, textW - 5).entries()) out.push(pad + (i ? `     ${l}` : l));
      if (f.snippet) {
        out.push("");
        for (const l of f.snippet.split("\n")) out.push(`${pad}    ${l}`);
        out.push("");
      }
      if (f.sources.length) {
        const src = f.sources.map((s) => `${shortSourceTitle(s.title)}${s.verified ? "" : " (unverified)"}`).join("; ");
        for (const [i, l] of wrap(`sources: ${src}`, textW - 9).entries()) out.push(pad + paint("dim", i ? `         ${l}` : l));
      }
    }
  }
  const s = report.summary;
  out.push(
    "",
    `${paint(report.exitCode === 2 ? "critical" : report.exitCode === 1 ? "warning" : "ok", `${s.critical} critical, ${s.warning} warning, ${s.info} info, ${s.ok} ok`)} — exit ${report.exitCode}`,
  );
  return `${out.join("\n")}\n`;
}
