// Waiting for vSphere tasks, answering a VM's pending question on the way.
import { DeadlineError, TaskFailedError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { obj, refKey, toQuestion, toTaskInfo } from "./convert.ts";
import { retrieveWithSpec } from "./properties.ts";
import type { MoRef, SoapObject, SoapValue } from "./soap/types.ts";
import type { TaskInfo, VmQuestion } from "./vim-types.ts";

export const DEFAULT_TASK_TIMEOUT_MS = 120_000;

export interface WaitForTaskOptions {
  /** Give up (DeadlineError) after this long. The task itself keeps running. Default 120 s. */
  timeoutMs?: number;
  /** First poll interval; grows to 1 s. Default 100 ms. */
  pollMs?: number;
  /** The VM whose runtime.question may block this task (power-on after a move). */
  vm?: MoRef;
  /**
   * Called once per pending question; return the choice key to answer with (AnswerVM),
   * or undefined to leave the question alone.
   */
  onQuestion?: (q: VmQuestion) => string | undefined | Promise<string | undefined>;
  signal?: AbortSignal;
}

/**
 * Poll a task until it succeeds (resolves with `info.result`) or fails (TaskFailedError with
 * the fault type, e.g. "FileLocked", "InvalidPowerState"). With `vm` and `onQuestion`, the same
 * poll also reads runtime.question and answers it.
 */
export async function waitForTask(client: VimClient, task: MoRef, opts: WaitForTaskOptions = {}): Promise<SoapValue> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let interval = opts.pollMs ?? 100;
  const answered = new Set<string>();
  const watchVm = opts.vm && opts.onQuestion ? opts.vm : undefined;
  const spec: SoapObject = {
    propSet: [
      { type: "Task", all: false, pathSet: ["info"] },
      ...(watchVm ? [{ type: "VirtualMachine", all: false, pathSet: ["runtime.question"] }] : []),
    ],
    objectSet: [{ obj: task, skip: false }, ...(watchVm ? [{ obj: watchVm, skip: false }] : [])],
  };
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new DeadlineError(`${client.endpoint.name} task ${task.value}`, timeoutMs);
    const objs = await retrieveWithSpec(client, spec, {
      signal: opts.signal,
      deadlineMs: Math.min(client.endpoint.timeout_ms, Math.max(remaining, 1)),
    });
    let info: TaskInfo | undefined;
    let question: VmQuestion | undefined;
    for (const o of objs) {
      if (refKey(o.ref) === refKey(task)) info = toTaskInfo(o.props.info);
      else question = toQuestion(o.props["runtime.question"]);
    }
    if (!info) throw new TaskFailedError(task.value, "ManagedObjectNotFound", "task disappeared before it finished");
    if (info.state === "success") return info.result as SoapValue;
    if (info.state === "error") {
      const f = info.error ?? { faultType: "MethodFault", message: "task failed without an error", detail: {} };
      throw new TaskFailedError(task.value, f.faultType, f.message, f.detail);
    }
    if (question && watchVm && opts.onQuestion && !answered.has(question.id)) {
      answered.add(question.id);
      const choice = await opts.onQuestion(question);
      if (choice !== undefined) await answerVm(client, watchVm, question.id, choice);
      continue;
    }
    await sleep(Math.min(interval, Math.max(deadline - Date.now(), 0)), opts.signal);
    interval = Math.min(interval * 2, 1000);
  }
}

/** VirtualMachine.AnswerVM. */
export async function answerVm(client: VimClient, vm: MoRef, questionId: string, answerChoice: string): Promise<void> {
  await client.call("AnswerVM", vm, { questionId, answerChoice });
}

/** The task's current TaskInfo, without waiting. */
export async function taskInfo(client: VimClient, task: MoRef): Promise<TaskInfo> {
  const [o] = await retrieveWithSpec(client, {
    propSet: [{ type: "Task", all: false, pathSet: ["info"] }],
    objectSet: [{ obj: task, skip: false }],
  });
  return toTaskInfo(obj(o?.props.info));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(t);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
