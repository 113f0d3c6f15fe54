// The client against recorded vCenter/ESXi responses: cookies, faults, paging tokens, task
// errors, truncated and odd-shaped answers that the simulator never sends.
import { afterEach, describe, expect, test } from "bun:test";
import { errorCode, HttpStatusError, SoapFaultError, TaskFailedError } from "../../src/errors.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { queryEvents } from "../../src/vsphere/events.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { findByUuid } from "../../src/vsphere/search.ts";
import { waitForTask } from "../../src/vsphere/tasks.ts";
import { rebootGuest } from "../../src/vsphere/vm.ts";
import { PropertyWatch } from "../../src/vsphere/watch.ts";
import { type FakeReply, type FakeRequest, fixture, soapFault, soapResponse, startFakeVim, type FakeVim } from "../support/vsphere/fake-vim.ts";
import { eventually } from "../support/vsphere/sim.ts";

const SI = { type: "ServiceInstance", value: "ServiceInstance" };
let fake: FakeVim | undefined;
let client: VimClient | undefined;

afterEach(async () => {
  await client?.close();
  await fake?.stop();
  client = undefined;
  fake = undefined;
});

async function open(handler: (r: FakeRequest) => FakeReply | undefined | Promise<FakeReply | undefined>): Promise<VimClient> {
  fake = startFakeVim(handler);
  client = await VimClient.connect(fake.endpoint());
  return client;
}

function vmObjects(ids: number[]): string {
  return ids
    .map((i) => `<objects><obj type="VirtualMachine">vm-${i}</obj><propSet><name>name</name><val xsi:type="xsd:string">vm ${i}</val></propSet></objects>`)
    .join("");
}

describe("session cookie", () => {
  test("the cookie from Login is sent on every later request", async () => {
    const c = await open((r) => (r.method === "CurrentTime" ? soapResponse("CurrentTime", "<returnval>2024-01-01T00:00:00Z</returnval>") : undefined));
    expect(await c.call("CurrentTime", SI)).toBe("2024-01-01T00:00:00Z");
    const [sc, login, time] = fake!.requests;
    expect(sc?.cookie).toBeNull();
    expect(login?.cookie).toBeNull();
    expect(time?.cookie).toBe('vmware_soap_session="session-1"');
    expect(c.about.apiType).toBe("HostAgent");
    expect(c.about.build).toBe("21930508");
  });

  test("the password reaches the Login body escaped, and only there", async () => {
    fake = startFakeVim(() => undefined);
    client = await VimClient.connect(fake.endpoint({ password: `p<&>"'w` }));
    const login = fake.requests.find((r) => r.method === "Login")!;
    expect(login.body).toContain("<password>p&lt;&amp;&gt;&quot;&apos;w</password>");
    expect(fake.requests.filter((r) => r.body.includes("p&lt;&amp;")).length).toBe(1);
  });

  test("NotAuthenticated → one re-login and one retry; a second NotAuthenticated surfaces", async () => {
    let failures = 1;
    const c = await open((r) => {
      if (r.method !== "CurrentTime") return undefined;
      if (failures-- > 0) return { status: 500, body: fixture("vcsim-esx-fault-not-authenticated.xml") };
      return soapResponse("CurrentTime", "<returnval>2024-01-01T00:00:00Z</returnval>");
    });
    expect(await c.call("CurrentTime", SI)).toBe("2024-01-01T00:00:00Z");
    expect(fake!.methods()).toEqual(["RetrieveServiceContent", "Login", "CurrentTime", "Login", "CurrentTime"]);
    expect(fake!.requests.at(-1)?.cookie).toBe('vmware_soap_session="session-2"');

    failures = 5;
    const err = await c.call("CurrentTime", SI).catch((e) => e);
    expect((err as SoapFaultError).faultType).toBe("NotAuthenticated");
    expect(fake!.methods().slice(5)).toEqual(["CurrentTime", "Login", "CurrentTime"]);
  });
});

describe("faults and HTTP errors", () => {
  test.each([
    ["FileLocked with detail", { status: 500, body: fixture("vcenter-fault-file-locked.xml") }, "FileLocked", /locked/],
    ["fault without detail", { status: 500, body: fixture("vcenter-fault-no-detail.xml") }, "Client", /Malformed request <Envelope>/],
    ["InvalidPowerState", soapFault("InvalidPowerState", "The attempted operation cannot be performed in the current state (Powered on).", "<requestedState>poweredOff</requestedState><existingState>poweredOn</existingState>"), "InvalidPowerState", /current state/],
    ["TaskInProgress", soapFault("TaskInProgress", "The operation is not allowed in the current state.", `<task type="Task">task-9</task>`), "TaskInProgress", /not allowed/],
    ["InvalidState", soapFault("InvalidState", "The operation is not allowed in the current state."), "InvalidState", /current state/],
    ["NotFound", soapFault("NotFound", "The object or item referred to could not be found."), "NotFound", /could not be found/],
  ])("%s → SoapFaultError", async (_name, reply, faultType, message) => {
    const c = await open((r) => (r.method === "PowerOffVM_Task" ? reply : undefined));
    const err = await c.call("PowerOffVM_Task", { type: "VirtualMachine", value: "vm-1" }).catch((e) => e);
    expect(err).toBeInstanceOf(SoapFaultError);
    expect((err as SoapFaultError).faultType).toBe(faultType);
    expect((err as SoapFaultError).faultString).toMatch(message);
  });

  test("FileLocked detail carries the file", async () => {
    const c = await open((r) => (r.method === "PowerOnVM_Task" ? { status: 500, body: fixture("vcenter-fault-file-locked.xml") } : undefined));
    const err = (await c.call("PowerOnVM_Task", { type: "VirtualMachine", value: "vm-1" }).catch((e) => e)) as SoapFaultError;
    expect(err.detail.file).toBe("[datastore1] db01/db01.vmx");
  });

  test.each([
    ["503 from a proxy", { status: 503, body: "<html>Service Unavailable</html>" }, 503],
    ["500 that is not SOAP", { status: 500, body: "<html><body>Internal Server Error</body></html>" }, 500],
    ["404 on a wrong path", { status: 404, body: "" }, 404],
  ])("%s → HttpStatusError", async (_name, reply, status) => {
    const c = await open((r) => (r.method === "CurrentTime" ? reply : undefined));
    const err = await c.call("CurrentTime", SI).catch((e) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(errorCode(err)).toBe("ESX_HTTP_STATUS");
    expect((err as HttpStatusError).status).toBe(status);
  });
});

describe("paging", () => {
  test("RetrievePropertiesEx + ContinueRetrievePropertiesEx until the token runs out", async () => {
    const c = await open((r) => {
      if (r.method === "CreateContainerView") return soapResponse("CreateContainerView", `<returnval type="ContainerView">session[x]view-1</returnval>`);
      if (r.method === "DestroyView") return soapResponse("DestroyView", "");
      if (r.method === "RetrievePropertiesEx") {
        expect(r.body).toContain("<maxObjects>2</maxObjects>");
        return soapResponse("RetrievePropertiesEx", `<returnval><token>t1</token>${vmObjects([1, 2])}</returnval>`);
      }
      if (r.method === "ContinueRetrievePropertiesEx") {
        if (r.body.includes("<token>t1</token>")) return soapResponse("ContinueRetrievePropertiesEx", `<returnval><token>t2</token>${vmObjects([3, 4])}</returnval>`);
        if (r.body.includes("<token>t2</token>")) return soapResponse("ContinueRetrievePropertiesEx", `<returnval>${vmObjects([5])}</returnval>`);
      }
      return undefined;
    });
    const vms = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"], maxObjects: 2 });
    expect(vms.map((v) => v.ref.value)).toEqual(["vm-1", "vm-2", "vm-3", "vm-4", "vm-5"]);
    expect(vms[4]?.props.name).toBe("vm 5");
    expect(fake!.methods().slice(2)).toEqual([
      "CreateContainerView",
      "RetrievePropertiesEx",
      "ContinueRetrievePropertiesEx",
      "ContinueRetrievePropertiesEx",
      "DestroyView",
    ]);
  });

  test("a failing continuation cancels the token and destroys the view", async () => {
    const c = await open((r) => {
      if (r.method === "CreateContainerView") return soapResponse("CreateContainerView", `<returnval type="ContainerView">view-1</returnval>`);
      if (r.method === "DestroyView" || r.method === "CancelRetrievePropertiesEx") return soapResponse(r.method, "");
      if (r.method === "RetrievePropertiesEx") return soapResponse("RetrievePropertiesEx", `<returnval><token>t1</token>${vmObjects([1])}</returnval>`);
      if (r.method === "ContinueRetrievePropertiesEx") return soapFault("InvalidArgument", "token expired");
      return undefined;
    });
    const err = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"] }).catch((e) => e);
    expect((err as SoapFaultError).faultType).toBe("InvalidArgument");
    expect(fake!.methods().slice(-2)).toEqual(["CancelRetrievePropertiesEx", "DestroyView"]);
  });

  test("an empty result (no returnval) is an empty list", async () => {
    const c = await open((r) => {
      if (r.method === "RetrievePropertiesEx") return soapResponse("RetrievePropertiesEx", "");
      return undefined;
    });
    expect(await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"], refs: [{ type: "VirtualMachine", value: "vm-1" }] })).toEqual([]);
  });

  test("missingSet is reported per object", async () => {
    const c = await open((r) => {
      if (r.method === "RetrievePropertiesEx") {
        return soapResponse(
          "RetrievePropertiesEx",
          `<returnval><objects><obj type="HostSystem">host-1</obj><propSet><name>name</name><val xsi:type="xsd:string">esx01</val></propSet>` +
            `<missingSet><path>config.featureCapability</path><fault><fault xsi:type="NoPermission"><object type="HostSystem">host-1</object><privilegeId>Host.Config</privilegeId></fault><localizedMessage>Permission to perform this operation was denied.</localizedMessage></fault></missingSet></objects></returnval>`,
        );
      }
      return undefined;
    });
    const [h] = await retrieveProperties(c, { type: "HostSystem", paths: ["name", "config.featureCapability"], refs: [{ type: "HostSystem", value: "host-1" }] });
    expect(h?.props).toEqual({ name: "esx01" });
    expect(h?.missing).toEqual([
      { path: "config.featureCapability", fault: { faultType: "NoPermission", message: "Permission to perform this operation was denied.", detail: { object: { type: "HostSystem", value: "host-1" }, privilegeId: "Host.Config" } } },
    ]);
  });
});

describe("tasks", () => {
  test("a task that ends in error → TaskFailedError with the fault type, message and detail", async () => {
    const c = await open((r) => (r.method === "RetrievePropertiesEx" ? fixture("vcenter-task-info-error.xml") : undefined));
    const err = await waitForTask(c, { type: "Task", value: "task-901" }).catch((e) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const t = err as TaskFailedError;
    expect(t.faultType).toBe("FileLocked");
    expect(t.faultMessage).toBe("Unable to access file [datastore1] db01/db01.vmdk since it is locked");
    expect(t.detail.file).toBe("[datastore1] db01/db01.vmdk");
    expect(t.task).toBe("task-901");
  });

  test("a question blocking the task is answered through onQuestion", async () => {
    let answered = false;
    const taskInfo = (state: string) =>
      `<objects><obj type="Task">task-7</obj><propSet><name>info</name><val xsi:type="TaskInfo"><key>task-7</key><task type="Task">task-7</task><state>${state}</state>${state === "success" ? "" : ""}</val></propSet></objects>`;
    const question =
      `<objects><obj type="VirtualMachine">vm-15</obj><propSet><name>runtime.question</name><val xsi:type="VirtualMachineQuestionInfo"><id>_vmx86</id><text>This virtual machine might have been moved or copied.</text>` +
      `<choice><choiceInfo><key>0</key><label>button.uuid.cancel</label><summary>Cancel</summary></choiceInfo><choiceInfo><key>1</key><label>button.uuid.movedTheVM</label><summary>I Moved It</summary></choiceInfo><choiceInfo><key>2</key><label>button.uuid.copiedTheVM</label><summary>I Copied It</summary></choiceInfo><defaultIndex>2</defaultIndex></choice>` +
      `<message><id>msg.uuid.altered</id><text>moved or copied</text></message></val></propSet></objects>`;
    const c = await open((r) => {
      if (r.method === "RetrievePropertiesEx") {
        return soapResponse("RetrievePropertiesEx", `<returnval>${answered ? taskInfo("success") : taskInfo("running") + question}</returnval>`);
      }
      if (r.method === "AnswerVM") {
        expect(r.body).toContain("<questionId>_vmx86</questionId><answerChoice>1</answerChoice>");
        answered = true;
        return soapResponse("AnswerVM", "");
      }
      return undefined;
    });
    const seen: string[] = [];
    await waitForTask(c, { type: "Task", value: "task-7" }, {
      vm: { type: "VirtualMachine", value: "vm-15" },
      onQuestion: (q) => {
        seen.push(...q.messageIds, q.defaultKey ?? "");
        return q.choices.find((ch) => ch.label === "button.uuid.movedTheVM")?.key;
      },
    });
    expect(seen).toEqual(["msg.uuid.altered", "2"]);
    expect(fake!.methods().filter((m) => m === "AnswerVM")).toHaveLength(1);
  });
});

describe("watch resilience", () => {
  test("failing long polls are reported and retried with backoff; the watch carries on", async () => {
    let waits = 0;
    const c = await open((r) => {
      if (r.method === "CreatePropertyCollector") return soapResponse(r.method, `<returnval type="PropertyCollector">pc-1</returnval>`);
      if (r.method === "CreateContainerView") return soapResponse(r.method, `<returnval type="ContainerView">view-1</returnval>`);
      if (r.method === "CreateFilter") return soapResponse(r.method, `<returnval type="PropertyFilter">filter-1</returnval>`);
      if (r.method === "DestroyPropertyCollector" || r.method === "DestroyView") return soapResponse(r.method, "");
      if (r.method === "WaitForUpdatesEx") {
        waits++;
        const change = (state: string) =>
          `<returnval><version>${waits}</version><filterSet><filter type="PropertyFilter">filter-1</filter><objectSet><kind>${waits === 1 ? "enter" : "modify"}</kind><obj type="VirtualMachine">vm-1</obj><changeSet><name>runtime.powerState</name><op>assign</op><val xsi:type="VirtualMachinePowerState">${state}</val></changeSet></objectSet></filterSet></returnval>`;
        if (waits === 1) return soapResponse(r.method, change("poweredOn"));
        if (waits <= 3) return { status: 503, body: "busy" };
        if (waits === 4) return soapResponse(r.method, change("poweredOff"));
        return new Promise((res) => setTimeout(() => res(soapResponse(r.method, "")), 200));
      }
      return undefined;
    });
    const watch = new PropertyWatch(c, { kind: "container", type: "VirtualMachine" }, { paths: ["runtime.powerState"], maxWaitSeconds: 1, backoffMs: { initial: 20, max: 40 } });
    const errors: unknown[] = [];
    watch.onError((e) => errors.push(e));
    await watch.start();
    try {
      await eventually(() => watch.get({ type: "VirtualMachine", value: "vm-1" })?.["runtime.powerState"] === "poweredOff", 5000, "update after errors");
      expect(errors.map(errorCode)).toEqual(["ESX_HTTP_STATUS", "ESX_HTTP_STATUS"]);
      expect(watch.lastError).toBeUndefined();
      // The filter survived: no second CreatePropertyCollector.
      expect(fake!.methods().filter((m) => m === "CreatePropertyCollector")).toHaveLength(1);
    } finally {
      await watch.stop();
    }
  });
});

describe("guest operations and events fallback", () => {
  test("RebootGuest is one call; without VMware Tools it fails with the fault type", async () => {
    let tools = true;
    const c = await open((r) => {
      if (r.method !== "RebootGuest") return undefined;
      return tools ? soapResponse("RebootGuest", "") : soapFault("ToolsUnavailable", "Cannot complete operation because VMware Tools is not running in this virtual machine.");
    });
    const vm = { type: "VirtualMachine", value: "vm-7" };
    await rebootGuest(c, vm);
    expect(fake!.requests.at(-1)?.body).toContain(`<_this type="VirtualMachine">vm-7</_this>`);
    tools = false;
    const err = await rebootGuest(c, vm).catch((e) => e);
    expect((err as SoapFaultError).faultType).toBe("ToolsUnavailable");
  });

  test("QueryEvents NotImplemented → an EventHistoryCollector sized to maxCount, read, then destroyed", async () => {
    const c = await open((r) => {
      switch (r.method) {
        case "QueryEvents":
          return soapFault("NotImplemented", "The operation is not implemented.");
        case "CreateCollectorForEvents":
          expect(r.body).not.toContain("<maxCount>");
          return soapResponse(r.method, `<returnval type="EventHistoryCollector">session[x]ehc-1</returnval>`);
        case "SetCollectorPageSize":
          expect(r.body).toContain("<maxCount>5</maxCount>");
          return soapResponse(r.method, "");
        case "RetrievePropertiesEx":
          expect(r.body).toContain("<pathSet>latestPage</pathSet>");
          return soapResponse(r.method, `<returnval><objects><obj type="EventHistoryCollector">session[x]ehc-1</obj><propSet><name>latestPage</name><val xsi:type="ArrayOfEvent"><Event xsi:type="VmPoweredOnEvent"><key>12</key><chainId>11</chainId><createdTime>2024-01-15T08:12:45Z</createdTime></Event><Event xsi:type="VmStartingEvent"><key>11</key><chainId>11</chainId><createdTime>2024-01-15T08:12:44Z</createdTime></Event></val></propSet></objects></returnval>`);
        case "DestroyCollector":
          return soapResponse(r.method, "");
      }
      return undefined;
    });
    const events = await queryEvents(c, { maxCount: 5 });
    expect(events.map((e) => [e.key, e.type])).toEqual([[11, "VmStartingEvent"], [12, "VmPoweredOnEvent"]]);
    expect(fake!.methods().slice(2)).toEqual(["QueryEvents", "CreateCollectorForEvents", "SetCollectorPageSize", "RetrievePropertiesEx", "DestroyCollector"]);
  });
});

describe("odd shapes", () => {
  test("FindByUuid with no returnval → undefined", async () => {
    const c = await open((r) => (r.method === "FindByUuid" ? soapResponse("FindByUuid", "") : undefined));
    expect(await findByUuid(c, "4230c6a9-0000-0000-0000-000000000000")).toBeUndefined();
  });

  test("QueryEvents with a single returnval is still a list", async () => {
    const c = await open((r) =>
      r.method === "QueryEvents"
        ? soapResponse("QueryEvents", `<returnval xsi:type="EventEx"><key>42</key><chainId>42</chainId><createdTime>2024-01-15T08:12:45Z</createdTime><userName>root</userName><eventTypeId>esx.problem.vmfs.resource.corruptondisk</eventTypeId><severity>error</severity></returnval>`)
        : undefined,
    );
    const events = await queryEvents(c);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ key: 42, type: "EventEx", eventTypeId: "esx.problem.vmfs.resource.corruptondisk" });
  });

  test("a truncated WaitForUpdatesEx answer is followed up at once; modify/leave/remove apply", async () => {
    let waits = 0;
    const c = await open((r) => {
      if (r.method === "CreatePropertyCollector") return soapResponse(r.method, `<returnval type="PropertyCollector">session[x]pc-1</returnval>`);
      if (r.method === "CreateContainerView") return soapResponse(r.method, `<returnval type="ContainerView">session[x]view-1</returnval>`);
      if (r.method === "CreateFilter") return soapResponse(r.method, `<returnval type="PropertyFilter">session[x]filter-1</returnval>`);
      if (r.method === "DestroyPropertyCollector" || r.method === "DestroyView") return soapResponse(r.method, "");
      if (r.method === "WaitForUpdatesEx") {
        waits++;
        const enter = (i: number) =>
          `<objectSet><kind>enter</kind><obj type="VirtualMachine">vm-${i}</obj><changeSet><name>runtime.powerState</name><op>assign</op><val xsi:type="VirtualMachinePowerState">poweredOn</val></changeSet><changeSet><name>runtime.question</name><op>assign</op><val xsi:type="VirtualMachineQuestionInfo"><id>q</id></val></changeSet></objectSet>`;
        if (waits === 1) return soapResponse(r.method, `<returnval><version>1_0</version><filterSet><filter type="PropertyFilter">f</filter>${enter(1042)}${enter(1043)}</filterSet><truncated>true</truncated></returnval>`);
        if (waits === 2) return soapResponse(r.method, `<returnval><version>1_1</version><filterSet><filter type="PropertyFilter">f</filter>${enter(1044)}</filterSet></returnval>`);
        if (waits === 3) return fixture("vcenter-wait-for-updates.xml");
        return new Promise((res) => setTimeout(() => res(soapResponse(r.method, "")), 200));
      }
      return undefined;
    });
    const watch = new PropertyWatch(c, { kind: "container", type: "VirtualMachine" }, { paths: ["runtime.powerState", "runtime.question"], maxWaitSeconds: 1 });
    await watch.start();
    try {
      expect(watch.size).toBe(3); // both pages of the truncated initial answer
      await eventually(() => watch.size === 2, 5000, "the leave of vm-1043");
      expect(watch.get({ type: "VirtualMachine", value: "vm-1042" })).toEqual({ "runtime.powerState": "poweredOff", "runtime.question": { $type: "VirtualMachineQuestionInfo", id: "q" } });
      expect(watch.get({ type: "VirtualMachine", value: "vm-1044" })).toEqual({ "runtime.powerState": "poweredOn" });
      const versions = fake!.requests.filter((r) => r.method === "WaitForUpdatesEx").map((r) => /<version>([^<]*)<\/version>/.exec(r.body)?.[1] ?? "");
      expect(versions.slice(0, 4)).toEqual(["", "1_0", "1_1", "1_2"]);
    } finally {
      await watch.stop();
    }
  });
});
