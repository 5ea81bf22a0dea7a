// One Lambda execution environment: the function's bootstrap process (in its
// own process group) and the Runtime API server it talks to on its own
// loopback port, as AWS runs a custom runtime
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
// Statuses and error bodies follow the Runtime Interface Emulator
// (aws/aws-lambda-runtime-interface-emulator, lambda/rapi).
import http from "node:http";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import readline from "node:readline";
import { readBody, sendJson } from "./http-util.js";

// interop.MaxPayloadSize of the emulator: 6 MiB and 100 bytes of framing.
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;
const API = "/2018-06-01/runtime";
const ACCEPTED = { status: "OK" };

// Peak resident set size of a process in MB, as Lambda's "Max Memory Used".
export function peakRssMb(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.ceil(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function invalidRequestId(res) {
  sendJson(res, 400, { errorMessage: "Invalid request ID", errorType: "InvalidRequestID" });
}

function invalidTransition(res, from, to, why) {
  sendJson(res, 403, {
    errorMessage: `State transition from ${from} to ${to} failed for runtime. Error: ${why}`,
    errorType: "InvalidStateTransition",
  });
}

function errorPayload(errorType, errorMessage) {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

function logStreamName() {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  return `${day}/[$LATEST]${randomBytes(16).toString("hex")}`;
}

// States: starting (no /next yet), idle (a /next is held), busy (an event was
// handed out, no answer yet), finishing (answered, no /next yet), dead.
export class Environment {
  constructor({ id, config, port, functionLog, onIdle, onDead }) {
    this.id = id;
    this.config = config;
    this.requestedPort = port;
    this.functionLog = functionLog;
    this.onIdle = onIdle;
    this.onDead = onDead;
    this.state = "starting";
    this.assigned = null; // an invocation waiting for this environment's next /next
    this.current = null; // the invocation handed out and not answered yet
    this.lastRequestId = "-"; // what the function's output lines are tagged with
    this.heldNext = null;
    this.answered = new Set();
    this.logStream = logStreamName();
    this.startedAt = performance.now();
    this.initDurationMs = null;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { errorMessage: String(err.message ?? err), errorType: "InternalServerError" });
      });
    });
  }

  get busy() {
    return this.state !== "idle" || this.assigned !== null;
  }

  // Listens, then starts the bootstrap with `invocation` as its first one.
  async start(invocation) {
    this.assigned = invocation;
    invocation.coldStart = true;
    try {
      await new Promise((resolve, reject) => {
        this.server.once("error", reject);
        this.server.listen(this.requestedPort, "127.0.0.1", () => {
          this.server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      this.die({ errorType: "Runtime.Unknown", message: `the Runtime API cannot listen on 127.0.0.1:${this.requestedPort}: ${err.message}`, init: true });
      return;
    }
    this.port = this.server.address().port;
    const cfg = this.config;
    const env = {
      ...cfg.baseEnv,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${this.port}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStream,
      ...cfg.userEnv,
    };
    this.initTimer = setTimeout(() => {
      this.die({ errorType: "Sandbox.Timedout", message: `Init phase timed out after ${cfg.initTimeoutS.toFixed(2)} seconds`, init: true });
    }, cfg.initTimeoutS * 1000);
    try {
      this.child = spawn(cfg.command[0], cfg.command.slice(1), {
        cwd: cfg.taskRoot,
        env,
        detached: true, // its own process group, so a timeout kills all it started
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      this.die({ errorType: "Runtime.InvalidEntrypoint", message: `fork/exec ${cfg.command[0]}: ${err.message}`, init: true });
      return;
    }
    this.pid = this.child.pid;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.functionLine(line));
    }
    this.child.on("error", (err) => {
      this.die({ errorType: "Runtime.InvalidEntrypoint", message: `fork/exec ${cfg.command[0]}: ${err.message}`, init: true });
    });
    this.child.on("exit", (code, signal) => {
      this.exited = true;
      if (this.state === "dead") return;
      const how = signal ? `signal: ${signal}` : code === 0 ? null : `exit status ${code}`;
      this.die({
        errorType: "Runtime.ExitError",
        message: how ? `Runtime exited with error: ${how}` : "Runtime exited without providing a reason",
        init: this.state === "starting",
      });
    });
  }

  functionLine(line) {
    this.functionLog.write(this.id, this.lastRequestId, line);
    const inv = this.current ?? this.finishing;
    if (inv && inv.requestId === this.lastRequestId) inv.logLines.push(line);
  }

  platformLine(requestId, text) {
    this.functionLog.write(this.id, requestId, text);
  }

  // Hands `invocation` to the runtime now (a /next is held) or at its next /next.
  assign(invocation) {
    if (this.assigned) throw new Error(`environment ${this.id} already has an invocation waiting`);
    this.assigned = invocation;
    if (this.heldNext) {
      const res = this.heldNext;
      this.heldNext = null;
      this.deliver(res);
    }
  }

  deliver(res) {
    const inv = this.assigned;
    this.assigned = null;
    this.current = inv;
    this.finishing = null;
    this.state = "busy";
    this.lastRequestId = inv.requestId;
    const timeoutMs = this.config.timeoutS * 1000;
    inv.deliveredAt = performance.now();
    inv.deadlineMs = Date.now() + Math.round(timeoutMs);
    inv.environment = this.id;
    const headers = {
      "content-type": "application/json",
      "lambda-runtime-aws-request-id": inv.requestId,
      "lambda-runtime-deadline-ms": String(inv.deadlineMs),
      "lambda-runtime-invoked-function-arn": inv.invokedArn,
      "lambda-runtime-trace-id": inv.traceId,
      "content-length": String(inv.payload.length),
    };
    if (inv.clientContext !== undefined) headers["lambda-runtime-client-context"] = inv.clientContext;
    if (inv.cognitoIdentity !== undefined) headers["lambda-runtime-cognito-identity"] = inv.cognitoIdentity;
    this.platformLine(inv.requestId, `START RequestId: ${inv.requestId} Version: $LATEST`);
    inv.timer = setTimeout(() => this.timedOut(inv), timeoutMs);
    this.peakMemoryMb();
    res.writeHead(200, headers);
    res.end(inv.payload);
  }

  async handle(req, res) {
    const path = new URL(req.url, "http://local").pathname;
    if (req.method === "GET" && path === `${API}/invocation/next`) return this.next(req, res);
    if (req.method === "POST" && path === `${API}/init/error`) return this.initError(req, res);
    const m = new RegExp(`^${API}/invocation/([^/]+)/(response|error)$`).exec(path);
    if (req.method === "POST" && m) return this.answer(req, res, decodeURIComponent(m[1]), m[2]);
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("404 page not found\n");
  }

  next(req, res) {
    if (this.state === "dead") return invalidTransition(res, "Dead", "Ready", "the environment is shutting down");
    if (this.state === "busy") {
      return invalidTransition(res, "Invoking", "Ready", `invocation ${this.current.requestId} has no response yet`);
    }
    if (this.heldNext) return invalidTransition(res, "Ready", "Ready", "a /next request is already waiting");
    if (this.state === "starting") {
      clearTimeout(this.initTimer);
      this.initDurationMs = performance.now() - this.startedAt;
    }
    this.state = "idle";
    this.finishing = null;
    req.socket.setTimeout(0);
    res.on("close", () => {
      if (this.heldNext === res && !res.writableEnded) this.heldNext = null;
    });
    if (this.assigned) return this.deliver(res);
    this.heldNext = res;
    this.onIdle(this);
    return undefined;
  }

  async answer(req, res, requestId, kind) {
    const inv = this.current;
    if (!inv || inv.requestId !== requestId) {
      await readBody(req).catch(() => Buffer.alloc(0));
      return invalidRequestId(res);
    }
    let body;
    try {
      body = await readBody(req, 64 * 1024 * 1024);
    } catch {
      body = null;
    }
    if (this.current !== inv) return invalidRequestId(res);
    if (body === null || body.length > MAX_PAYLOAD_BYTES) {
      const size = body === null ? "more than 67108864" : String(body.length);
      this.complete(inv, {
        ok: false,
        errorType: "Function.ResponseSizeTooLarge",
        body: errorPayload("Function.ResponseSizeTooLarge", `Response payload size (${size} bytes) exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`),
      });
      return sendJson(res, 413, { errorMessage: `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`, errorType: "RequestEntityTooLarge" });
    }
    if (kind === "response") {
      this.complete(inv, { ok: true, body });
    } else {
      const errorType = req.headers["lambda-runtime-function-error-type"] ?? "Unhandled";
      this.complete(inv, { ok: false, errorType, body });
    }
    return sendJson(res, 202, ACCEPTED);
  }

  async initError(req, res) {
    const body = await readBody(req, MAX_PAYLOAD_BYTES).catch(() => Buffer.alloc(0));
    if (this.state !== "starting") return invalidTransition(res, "Ready", "InitError", "the runtime already finished its init");
    const errorType = req.headers["lambda-runtime-function-error-type"] ?? "Runtime.Unknown";
    sendJson(res, 202, ACCEPTED);
    this.die({ errorType, body, init: true, reported: true });
    return undefined;
  }

  // Finishes the current invocation: END and REPORT lines, the result to its caller.
  complete(inv, result, status) {
    clearTimeout(inv.timer);
    this.current = null;
    this.answered.add(inv.requestId);
    const durationMs = performance.now() - inv.deliveredAt;
    this.platformLine(inv.requestId, `END RequestId: ${inv.requestId}`);
    let report =
      `REPORT RequestId: ${inv.requestId}\tDuration: ${durationMs.toFixed(2)} ms\t` +
      `Billed Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${this.config.memoryMb} MB\t` +
      `Max Memory Used: ${this.peakMemoryMb()} MB`;
    if (inv.coldStart && this.initDurationMs !== null) report += `\tInit Duration: ${this.initDurationMs.toFixed(2)} ms`;
    if (status) report += `\tStatus: ${status}`;
    this.platformLine(inv.requestId, report);
    if (this.state === "busy") {
      this.state = "finishing";
      this.finishing = inv;
    }
    inv.durationMs = durationMs;
    inv.settle(result);
  }

  // The process's peak RSS; sampled at each hand-out too, so that a process
  // that already exited still has one.
  peakMemoryMb() {
    this.lastPeakMb = Math.max(this.lastPeakMb ?? 0, peakRssMb(this.pid));
    return this.lastPeakMb;
  }

  timedOut(inv) {
    if (this.current !== inv) return;
    const seconds = this.config.timeoutS.toFixed(2);
    this.platformLine(inv.requestId, `${new Date().toISOString()} ${inv.requestId} Task timed out after ${seconds} seconds`);
    const message = `RequestId: ${inv.requestId} Error: Task timed out after ${seconds} seconds`;
    this.complete(inv, { ok: false, timeout: true, errorType: "Sandbox.Timedout", body: errorPayload("Sandbox.Timedout", message) }, "timeout");
    this.kill();
    this.die({ quiet: true });
  }

  killProcessGroup() {
    if (!this.pid || this.exited) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  kill() {
    this.killProcessGroup();
  }

  // Ends this environment: fails what it holds with the given error, kills
  // the process group, closes the Runtime API. `init` marks an init failure.
  die({ errorType, message, body, init = false, quiet = false }) {
    if (this.state === "dead") return;
    const wasStarting = this.state === "starting";
    this.state = "dead";
    clearTimeout(this.initTimer);
    let orphan = null;
    if (!wasStarting && this.assigned) {
      // Given to this environment after it answered, not handed out yet: another one takes it.
      orphan = this.assigned;
      this.assigned = null;
    }
    const inv = this.current ?? this.assigned;
    if (!quiet && inv) {
      const payload = body ?? errorPayload(errorType, `RequestId: ${inv.requestId} Error: ${message}`);
      if (this.current === inv) {
        this.complete(inv, { ok: false, errorType, body: payload, exit: true }, `error\tError Type: ${errorType}`);
      } else {
        this.assigned = null;
        const phase = init || wasStarting;
        this.platformLine(
          inv.requestId,
          `INIT_REPORT Init Duration: ${(performance.now() - this.startedAt).toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${errorType}`,
        );
        inv.settle({ ok: false, errorType, body: payload, init: phase });
      }
    }
    if (this.heldNext) {
      this.heldNext.destroy();
      this.heldNext = null;
    }
    this.killProcessGroup();
    // Resolves once the port is free again (also when it never listened).
    this.closed = new Promise((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.onDead(this, { init: init || wasStarting, quiet, orphan });
  }
}
