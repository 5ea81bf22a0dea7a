// A function: its execution environments (at most `concurrency` at once,
// warm ones reused, a cold start when none is free), synchronous and
// asynchronous invocations (with Lambda's retries of failed asynchronous
// ones), the function log and the counters the status endpoint shows.
import { createWriteStream } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { Environment } from "./lambda-environment.js";

export const ACCOUNT = "000000000000";

// The function's log, as CloudWatch Logs would hold it: one line per output
// line of the function and per platform line (START, END, REPORT, ...),
// "TIME<TAB>ENVIRONMENT<TAB>REQUEST_ID<TAB>TEXT".
export class FunctionLog {
  constructor(path) {
    this.path = path;
    this.stream = createWriteStream(path, { flags: "a" });
  }

  write(environment, requestId, text) {
    this.stream.write(`${new Date().toISOString()}\t${environment}\t${requestId}\t${text}\n`);
  }

  close() {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

export class Throttled extends Error {}

function traceId() {
  const now = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
  return `Root=1-${now}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

const COUNTERS = [
  "invocations",
  "cold_starts",
  "timeouts",
  "errors",
  "init_errors",
  "throttles",
  "async_invocations",
  "async_retries",
  "async_succeeded",
  "async_failed",
  "batches",
  "batches_failed",
  "batch_item_failures",
  "messages_deleted",
  "delete_failures",
];

export class LambdaFunction {
  // config: name, region, command, taskRoot, baseEnv, userEnv, timeoutS,
  // initTimeoutS, memoryMb, concurrency, runtimePortBase, asyncRetryDelaysS,
  // asyncMaxRetries, functionLog (a FunctionLog), logger
  constructor(config) {
    this.config = config;
    this.name = config.name;
    this.arn = `arn:aws:lambda:${config.region}:${ACCOUNT}:function:${config.name}`;
    this.log = config.functionLog;
    this.logger = config.logger;
    this.environments = new Set();
    this.freeSlots = Array.from({ length: config.concurrency }, (_, i) => i);
    this.waiting = []; // invocations that wait for an environment (asynchronous, event source mapping)
    this.asyncPending = 0;
    this.nextEnvironment = 1;
    this.maxEnvironments = 0;
    this.counters = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
    this.stopping = false;
  }

  // Runs one invocation and resolves to its result: { ok, body, errorType,
  // timeout, init, requestId, logLines }. With wait false (synchronous
  // invocations) a function at its concurrency throws Throttled, as Lambda
  // answers 429; otherwise the invocation waits for an environment.
  run(payload, { wait, clientContext, invokedArn, requestId } = {}) {
    const inv = {
      requestId: requestId ?? randomUUID(),
      payload,
      clientContext,
      invokedArn: invokedArn ?? this.arn,
      traceId: traceId(),
      logLines: [],
      coldStart: false,
    };
    const done = new Promise((resolve) => {
      inv.settle = (result) => {
        if (inv.settled) return;
        inv.settled = true;
        resolve(this.account(inv, result));
      };
    });
    if (!this.dispatch(inv)) {
      if (!wait) {
        this.counters.throttles++;
        throw new Throttled("Rate Exceeded.");
      }
      this.waiting.push(inv);
    }
    return done;
  }

  account(inv, result) {
    this.counters.invocations++;
    if (inv.coldStart) this.counters.cold_starts++;
    if (!result.ok) {
      this.counters.errors++;
      if (result.timeout) this.counters.timeouts++;
      if (result.init) this.counters.init_errors++;
    }
    return { ...result, requestId: inv.requestId, logLines: inv.logLines, environment: inv.environment };
  }

  // Gives the invocation to a warm environment, else to one that answered and
  // will ask for the next event, else to a new one (a cold start) while the
  // concurrency allows. False when none can take it now.
  dispatch(inv) {
    if (this.stopping) {
      inv.settle({ ok: false, errorType: "ServiceException", body: Buffer.from('{"errorType":"ServiceException","errorMessage":"the local Lambda is shutting down"}') });
      return true;
    }
    let chosen = null;
    for (const env of this.environments) {
      if (env.state === "idle" && !env.assigned) {
        chosen = env;
        break;
      }
    }
    if (!chosen) {
      for (const env of this.environments) {
        if (env.state === "finishing" && !env.assigned) {
          chosen = env;
          break;
        }
      }
    }
    if (chosen) {
      chosen.assign(inv);
      return true;
    }
    if (this.freeSlots.length === 0) return false;
    const slot = this.freeSlots.shift();
    const env = new Environment({
      id: `env-${this.nextEnvironment++}`,
      config: this.config,
      port: this.config.runtimePortBase ? this.config.runtimePortBase + slot : 0,
      functionLog: this.log,
      onIdle: () => this.pump(),
      onDead: (dead, { orphan }) => {
        this.environments.delete(dead);
        dead.closed.then(() => {
          this.freeSlots.push(slot);
          this.freeSlots.sort((a, b) => a - b);
          if (orphan) this.waiting.unshift(orphan);
          this.pump();
        });
      },
    });
    this.environments.add(env);
    this.maxEnvironments = Math.max(this.maxEnvironments, this.environments.size);
    env.start(inv);
    return true;
  }

  pump() {
    while (this.waiting.length > 0) {
      if (!this.dispatch(this.waiting[0])) return;
      this.waiting.shift();
    }
  }

  // An asynchronous (Event) invocation: runs in the background, and a failed
  // one runs again after each of the retry delays (Lambda: up to 2 retries),
  // with the same request id.
  runAsync(payload, { invokedArn, clientContext } = {}) {
    const requestId = randomUUID();
    this.counters.async_invocations++;
    this.asyncPending++;
    const attempt = async (n) => {
      const result = await this.run(payload, { wait: true, invokedArn, clientContext, requestId });
      if (result.ok) {
        this.counters.async_succeeded++;
        this.asyncPending--;
        return;
      }
      if (n >= this.config.asyncMaxRetries || this.stopping) {
        this.counters.async_failed++;
        this.asyncPending--;
        this.logger(`async invocation ${requestId} failed after ${n + 1} attempts: ${result.errorType}`);
        return;
      }
      const delays = this.config.asyncRetryDelaysS;
      const delayS = delays[Math.min(n, delays.length - 1)];
      this.counters.async_retries++;
      setTimeout(() => attempt(n + 1), delayS * 1000);
    };
    attempt(0);
    return requestId;
  }

  status() {
    const states = {};
    for (const env of this.environments) states[env.state] = (states[env.state] ?? 0) + 1;
    return {
      arn: this.arn,
      ...this.counters,
      environments_now: this.environments.size,
      environments_max: this.maxEnvironments,
      environment_states: states,
      environment_pids: [...this.environments].map((e) => e.pid).filter(Boolean),
      waiting: this.waiting.length,
      async_pending: this.asyncPending,
      concurrency: this.config.concurrency,
      timeout_s: this.config.timeoutS,
      memory_mb: this.config.memoryMb,
      function_log: this.log.path,
    };
  }

  // Kills every environment (their process groups) and fails what waits.
  async stop() {
    this.stopping = true;
    for (const inv of this.waiting.splice(0)) this.dispatch(inv);
    const closing = [...this.environments].map((env) => {
      env.die({ errorType: "ServiceException", message: "the local Lambda is shutting down" });
      return env.closed;
    });
    await Promise.allSettled(closing);
    await this.log.close();
  }
}
