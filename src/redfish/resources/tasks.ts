// TaskService: tasks and their monitors (a long InsertMedia answers 202 + a monitor).
import type { RequestContext, Route } from "../context.ts";
import { collection, link, resource, ROOT } from "../json.ts";
import { fail } from "../messages.ts";
import type { Task } from "../tasks.ts";

const TASKS = `${ROOT}/TaskService/Tasks`;
export const monitorUri = (id: string) => `${ROOT}/TaskService/TaskMonitors/${id}`;

export function taskBody(t: Task) {
  const percent = t.state === "Running" ? t.percent?.() : 100;
  return resource("#Task.v1_6_0.Task", `${TASKS}/${t.id}`, t.id, t.name, {
    TaskState: t.state,
    TaskStatus: t.state === "Exception" ? "Critical" : "OK",
    StartTime: t.startTime,
    ...(t.endTime ? { EndTime: t.endTime } : {}),
    ...(percent !== undefined ? { PercentComplete: Math.floor(percent) } : {}),
    TaskMonitor: monitorUri(t.id),
    Messages: t.message ? [{ MessageId: t.state === "Exception" ? "Base.1.8.OperationFailed" : "Base.1.8.Success", Message: t.message }] : [],
  });
}

function find(ctx: RequestContext): Task {
  const t = ctx.env.tasks.get(ctx.params.id as string);
  if (!t) throw fail.notFound(ctx.path);
  return t;
}

export const taskRoutes: Route[] = [
  {
    pattern: `${ROOT}/TaskService`,
    name: "TaskService",
    methods: {
      GET: () => ({
        body: resource("#TaskService.v1_2_0.TaskService", `${ROOT}/TaskService`, "TaskService", "Task Service", {
          ServiceEnabled: true,
          CompletedTaskOverWritePolicy: "Oldest",
          Tasks: link(TASKS),
          Status: { State: "Enabled", Health: "OK" },
        }),
      }),
    },
  },
  { pattern: TASKS, name: "Tasks", methods: { GET: (ctx) => ({ body: collection("#TaskCollection.TaskCollection", TASKS, "Tasks", ctx.env.tasks.list().map((t) => `${TASKS}/${t.id}`)) }) } },
  { pattern: `${TASKS}/:id`, name: "Task", methods: { GET: (ctx) => ({ body: taskBody(find(ctx)) }) } },
  {
    pattern: `${ROOT}/TaskService/TaskMonitors/:id`,
    name: "TaskMonitor",
    methods: {
      GET: (ctx) => {
        const t = find(ctx);
        if (t.state === "Running") return { status: 202, body: taskBody(t), headers: { Location: monitorUri(t.id), "Retry-After": "5" }, etag: false };
        return { status: t.result?.status ?? 204, body: t.result?.body as Record<string, unknown> | undefined, etag: false };
      },
    },
  },
];
