// TaskService tasks for operations that outlive their request (an InsertMedia whose image is
// still downloading when the client's wait ends): DSP0266 "Asynchronous operations". The
// monitor answers 202 while the task runs and the operation's result once it has ended.
import { randomUUID } from "node:crypto";

export interface Task {
  id: string;
  name: string;
  state: "Running" | "Completed" | "Exception";
  startTime: string;
  endTime?: string;
  percent?: () => number | undefined;
  /** Final message (error text, never a secret). */
  message?: string;
  /** Status and body of the operation once done. */
  result?: { status: number; body?: unknown };
  /** The system the task acts on (for status). */
  system: string;
}

const KEEP_FINISHED = 64;

export class TaskStore {
  readonly #tasks = new Map<string, Task>();

  start(name: string, system: string, work: Promise<void>, percent: () => number | undefined, onError: (err: unknown) => { status: number; body: unknown; message: string }): Task {
    const task: Task = { id: randomUUID(), name, system, state: "Running", startTime: new Date().toISOString(), percent };
    this.#tasks.set(task.id, task);
    work.then(
      () => {
        task.state = "Completed";
        task.result = { status: 204 };
        task.message = "The task completed successfully.";
      },
      (err: unknown) => {
        const e = onError(err);
        task.state = "Exception";
        task.result = { status: e.status, body: e.body };
        task.message = e.message;
      },
    ).finally(() => {
      task.endTime = new Date().toISOString();
      this.#trim();
    });
    return task;
  }

  #trim(): void {
    const done = [...this.#tasks.values()].filter((t) => t.state !== "Running");
    for (const t of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) this.#tasks.delete(t.id);
  }

  get(id: string): Task | undefined {
    return this.#tasks.get(id);
  }

  list(): Task[] {
    return [...this.#tasks.values()];
  }

  running(): Task[] {
    return this.list().filter((t) => t.state === "Running");
  }
}
