#!/usr/bin/env node
// A custom Lambda runtime for the local Lambda's tests: it speaks the Runtime
// API ($AWS_LAMBDA_RUNTIME_API) and does what each event says.
//   FAKE_INIT=exit      exits with status 3 before asking for an event
//   FAKE_INIT=error     reports an init error (/runtime/init/error), then waits
// Events ({"action": ...}):
//   echo        answers what it saw: event, headers, environment, pid, count
//   error       reports a function error (errorType FakeError)
//   sleep       sleeps "seconds", then answers ("spawn_child": a `sleep 300` child first)
//   exit        exits with status "code" in the middle of the invocation
//   fail-until  fails until the counter file "counter" reaches "succeed_on"
//   probe       tries the Runtime API's error cases and answers their statuses
//   big         answers "bytes" bytes (past 6 MB the Runtime API refuses it)
//   an SQS event (Records): logs each record; a record's body (up to a "#",
//   the rest tells messages apart) says what to answer: "fail" lists it in batchItemFailures, "invalid-empty" /
//   "invalid-unknown" add an empty / unknown itemIdentifier, "invalid-json"
//   makes the answer malformed, "error" fails the invocation,
//   "sleep:S" sleeps S seconds first.
import http from "node:http";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const base = "/2018-06-01/runtime";
let count = 0;

function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(":");
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const req = http.request({ host, port, method, path: base + path, headers: { ...headers, ...(data ? { "content-length": data.length } : {}) } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
const respond = (id, body) => call("POST", `/invocation/${id}/response`, body);
const fail = (id, message, type = "FakeError") =>
  call("POST", `/invocation/${id}/error`, { errorMessage: message, errorType: type }, { "lambda-runtime-function-error-type": type });

const LAMBDA_ENV = [
  "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_REGION", "AWS_DEFAULT_REGION",
  "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER", "AWS_EXECUTION_ENV", "TZ", "LANG", "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "FAKE_EXTRA", "SALESFLOW_SOURCE_DIR", "PATH",
];

async function sqsBatch(id, records) {
  const failures = [];
  let malformed = false;
  for (const r of records) {
    console.log(`record ${r.messageId} receive=${r.attributes.ApproximateReceiveCount} body=${r.body}`);
    console.log(`record-json ${JSON.stringify(r)}`);
    const what = r.body.split("#")[0];
    if (what === "fail") failures.push({ itemIdentifier: r.messageId });
    else if (what === "invalid-empty") failures.push({ itemIdentifier: "" });
    else if (what === "invalid-unknown") failures.push({ itemIdentifier: "no-such-message-id" });
    else if (what === "invalid-json") malformed = true;
    else if (what === "error") return fail(id, "a record said error");
    else if (what.startsWith("sleep:")) await sleep(Number(what.slice(6)));
  }
  if (malformed) return respond(id, '{"batchItemFailures": [');
  return respond(id, { batchItemFailures: failures });
}

async function handle(id, headers, event) {
  count++;
  console.log(`handling ${id} in pid ${process.pid}`);
  console.error(`stderr line of ${id}`);
  if (Array.isArray(event.Records)) return sqsBatch(id, event.Records);
  switch (event.action) {
    case "echo": {
      const env = Object.fromEntries(LAMBDA_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
      return respond(id, {
        event, pid: process.pid, count, now: Date.now(), cwd: process.cwd(), env,
        headers: {
          requestId: headers["lambda-runtime-aws-request-id"], deadlineMs: headers["lambda-runtime-deadline-ms"],
          arn: headers["lambda-runtime-invoked-function-arn"], traceId: headers["lambda-runtime-trace-id"],
          clientContext: headers["lambda-runtime-client-context"] ?? null,
        },
      });
    }
    case "error":
      return fail(id, event.message ?? "told to fail");
    case "sleep":
      if (event.spawn_child) {
        // A child in the runtime's process group: a timeout must kill it too.
        const child = spawn("sleep", ["300"], { stdio: "ignore" });
        console.log(`child pid ${child.pid}`);
      }
      await sleep(event.seconds);
      return respond(id, { slept: event.seconds, pid: process.pid });
    case "exit":
      process.exit(event.code ?? 1);
      break;
    case "fail-until": {
      let n = 0;
      try {
        n = Number(readFileSync(event.counter, "utf8"));
      } catch {
        // first attempt
      }
      writeFileSync(event.counter, String(n + 1));
      if (n + 1 < event.succeed_on) return fail(id, `attempt ${n + 1} fails`);
      return respond(id, { attempt: n + 1 });
    }
    case "probe": {
      const wrongId = await respond("00000000-0000-0000-0000-000000000000", { wrong: true });
      const lateInitError = await call("POST", "/init/error", { errorMessage: "late", errorType: "Late" });
      const nextTooEarly = await call("GET", "/invocation/next");
      const first = await respond(id, { probed: true });
      const second = await respond(id, { again: true });
      const summary = (r) => `${r.status} ${r.body.trim()}`;
      console.log(`probe wrong-id: ${summary(wrongId)}`);
      console.log(`probe init-error-after-init: ${summary(lateInitError)}`);
      console.log(`probe next-before-answer: ${summary(nextTooEarly)}`);
      console.log(`probe first-response: ${summary(first)}`);
      console.log(`probe second-response: ${summary(second)}`);
      return undefined;
    }
    case "big": {
      const r = await respond(id, Buffer.alloc(event.bytes, "x"));
      console.log(`big response: ${r.status} ${r.body.trim()}`);
      return undefined;
    }
    default:
      return fail(id, `unknown action ${JSON.stringify(event.action)}`, "FakeUnknownAction");
  }
}

async function main() {
  console.log(`init pid ${process.pid}`);
  if (process.env.FAKE_INIT === "exit") {
    console.error("told to exit at init");
    process.exit(3);
  }
  if (process.env.FAKE_INIT === "error") {
    await call("POST", "/init/error", { errorMessage: "told to fail at init", errorType: "Runtime.FakeInitError" }, { "lambda-runtime-function-error-type": "Runtime.FakeInitError" });
    await sleep(3600);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) throw new Error(`next answered ${next.status}: ${next.body}`);
    await handle(next.headers["lambda-runtime-aws-request-id"], next.headers, JSON.parse(next.body));
  }
}

main().catch((err) => {
  console.error(`fake runtime: ${err.stack ?? err}`);
  process.exit(1);
});
