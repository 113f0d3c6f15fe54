// Check 3, USB/SD boot bootbank loss: ESXi 7.0 U2/U2a booted from USB or SD media (a vmkusb
// adapter with an mpx.vmhba32-style disk) loses its bootbank ("Bootbank cannot be found at
// path '/bootbank'") and becomes unmanageable. Any 7.x on USB/SD wears the media out.
// Also reports recent bootbank / corrupt-on-disk events.
import { ev, listText, makeFinding } from "../finding.ts";
import type { EventFacts, HostFacts, Inventory } from "../inventory.ts";
import { RULES, type EventPattern, describeBuild } from "../rules.ts";
import type { Evidence, Finding } from "../types.ts";

export interface BootMedia {
  usb: boolean;
  evidence: Evidence[];
}

/**
 * A host boots from USB/SD when a USB storage adapter (vmkusb, usb-storage) carries a disk:
 * the API has no direct "boot device" property, and such a disk is the boot device on every
 * server seen so far (SD modules such as IDSDM appear as USB too).
 */
export function bootMedia(h: HostFacts): BootMedia {
  const drivers = RULES.usbBoot.drivers.map((d) => d.toLowerCase());
  const usbHbas = h.hbas.filter((a) => drivers.includes(a.driver.toLowerCase()));
  const devices = new Set(usbHbas.map((a) => a.device));
  const disks = h.luns.filter((l) => {
    const m = /^mpx\.(vmhba\d+):/.exec(l.canonicalName);
    return !!m && devices.has(m[1] as string) && l.lunType !== "cdrom";
  });
  if (usbHbas.length === 0 || disks.length === 0) return { usb: false, evidence: [] };
  return {
    usb: true,
    evidence: [
      ...usbHbas.map((a) => ev(h.name, `config.storageDevice.hostBusAdapter[${a.device}].driver`, a.driver)),
      ...disks.map((l) => ev(h.name, "config.storageDevice.scsiLun[].canonicalName", l.canonicalName)),
    ],
  };
}

function eventMatches(p: EventPattern, e: EventFacts): boolean {
  const value = p.field === "eventTypeId" ? e.eventTypeId : e.message;
  return value !== undefined && new RegExp(p.match).test(value);
}

function hostOfEvent(inv: Inventory, e: EventFacts): HostFacts | undefined {
  return inv.hosts.find((h) =>
    h.seenThrough.some((v) => v.endpoint === e.endpoint && (e.hostRef ? e.hostRef.value === v.ref.value : e.hostName === v.name)),
  );
}

function eventFindings(inv: Inventory, usbHosts: Set<string>): Finding[] {
  const all = [...inv.events, ...inv.hosts.flatMap((h) => h.configIssues)];
  const groups = new Map<string, { host?: HostFacts; target: string; pattern: EventPattern; events: EventFacts[] }>();
  for (const e of all) {
    const pattern = RULES.events.patterns.find((p) => eventMatches(p, e));
    if (!pattern) continue;
    const host = hostOfEvent(inv, e);
    if (pattern.usbBootOnly && !(host && usbHosts.has(host.key))) continue;
    const target = host?.name ?? e.hostName ?? e.endpoint;
    const gk = `${target}|${pattern.match}`;
    const g = groups.get(gk) ?? { ...(host ? { host } : {}), target, pattern, events: [] };
    const dup = g.events.some((x) => x.eventTypeId === e.eventTypeId && x.message === e.message && x.createdTime === e.createdTime);
    if (!dup) g.events.push(e);
    groups.set(gk, g);
  }
  return [...groups.values()].map(({ target, pattern, events }) => {
    const latest = events.map((e) => e.createdTime ?? "").sort().pop();
    const issues = events.filter((e) => e.configIssue).length;
    const where = issues ? `${issues === events.length ? "" : `${events.length - issues} event(s) and `}a current configIssue` : `${events.length} event(s) in the last ${RULES.events.lookbackDays} days${latest ? `, latest ${latest}` : ""}`;
    return makeFinding("usb-boot.event", {
      target,
      severity: pattern.severity,
      title: `${target}: ${pattern.what} (${where})${pattern.verified ? "" : " [event id unverified]"}`,
      evidence: events.slice(0, 5).map((e) =>
        ev(target, e.configIssue ? "configIssue" : `event ${e.key}`, `${e.eventTypeId ?? e.type}${e.createdTime ? ` at ${e.createdTime}` : ""}: ${e.message}`),
      ),
      vars: { host: target },
      extraSources: pattern.sources,
    });
  });
}

export function checkUsbBoot(inv: Inventory): Finding[] {
  const findings: Finding[] = [];
  const { criticalBuilds, fixedBuild, fixedRelease, warnMajor } = RULES.usbBoot;
  const notUsb: HostFacts[] = [];
  const usbHosts = new Set<string>();
  for (const h of inv.hosts) {
    const media = bootMedia(h);
    if (!media.usb) {
      notUsb.push(h);
      continue;
    }
    usbHosts.add(h.key);
    const build = describeBuild("ESXi", h.version, h.build);
    const evidence = [ev(h.name, "config.product.version", h.version), ev(h.name, "config.product.build", h.build), ...media.evidence];
    const major = Number.parseInt(h.version, 10);
    if (criticalBuilds.includes(Number(h.build))) {
      findings.push(
        makeFinding("usb-boot.critical-build", {
          target: h.name,
          title: `${h.name} runs ${build} and boots from USB/SD media: it can lose its bootbank and become unmanageable`,
          evidence,
          vars: { host: h.name, fixedRelease, fixedBuild },
        }),
      );
    } else if (major === warnMajor) {
      findings.push(
        makeFinding("usb-boot.7x", {
          target: h.name,
          title: `${h.name} runs ${build} from USB/SD media (write endurance)`,
          evidence,
          vars: { host: h.name },
        }),
      );
    } else {
      findings.push(makeFinding("usb-boot.other-version", { target: h.name, title: `${h.name} boots from USB/SD media (${build})`, evidence }));
    }
  }
  if (notUsb.length) {
    findings.push(
      makeFinding("usb-boot.not-usb", {
        target: notUsb.length === 1 ? (notUsb[0] as HostFacts).name : `${notUsb.length} hosts`,
        title: `No USB/SD boot media on ${listText(notUsb.map((h) => h.name))}`,
        evidence: notUsb.map((h) => ev(h.name, "config.storageDevice.hostBusAdapter[].driver", [...new Set(h.hbas.map((a) => a.driver))].join(", ") || "(none)")),
      }),
    );
  }
  findings.push(...eventFindings(inv, usbHosts));
  return findings;
}
