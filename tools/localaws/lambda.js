#!/usr/bin/env node
// A local AWS Lambda for one function with a custom runtime, on 127.0.0.1:
// the Lambda API (Invoke, event source mappings, GET /status) on one port,
// one Runtime API port per execution environment, the function's bootstrap
// started with Lambda's environment, and optionally an SQS event source
// mapping on the local stack's SQS.
// Prints "READY lambda=URL function=NAME ..." once it listens.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FunctionLog, LambdaFunction } from "./lib/lambda-function.js";
import { createLambdaApi } from "./lib/lambda-api.js";
import { MappingError, SqsEventSourceMapping, sqsArnForName } from "./lib/lambda-sqs.js";
import { runMain } from "./lib/run-main.js";

const HOST = "127.0.0.1";
const HERE = path.dirname(fileURLToPath(import.meta.url));
const USAGE = `usage: lambda.js [options] -- COMMAND [ARG...]
  COMMAND is the function's bootstrap, started in each execution environment.
  --port P                    the Lambda API and /status (default $LOCALAWS_LAMBDA_PORT or 4569)
  --function-name NAME        (default "function")
  --handler H                 _HANDLER (default "bootstrap")
  --task-root DIR             working directory and LAMBDA_TASK_ROOT (default: the current directory)
  --runtime-dir DIR           LAMBDA_RUNTIME_DIR (default: the task root)
  --env KEY=VALUE             extra environment of the function, repeatable
  --timeout S                 function timeout in seconds, fractions allowed (default 3)
  --init-timeout S            time the runtime has to ask for its first event (default 10)
  --memory MB                 AWS_LAMBDA_FUNCTION_MEMORY_SIZE, 128..10240 (default 128)
  --concurrency N             execution environments at most (default 10)
  --runtime-api-port-base P   environment k's Runtime API listens on P+k (default: any free port)
  --async-retry-delays S,S    delays before the retries of a failed Event invocation (default 60,120)
  --async-max-retries N       0..2 (default 2)
  --function-log F            the function's log (default tools/localaws/.lambda-NAME.function.log)
  --sqs-endpoint URL          the local stack's SQS (default $AWS_ENDPOINT_URL_SQS or http://127.0.0.1:4566)
  --queue URL|ARN|NAME        create an SQS event source mapping on this queue at start
  --batch-size N              of that mapping (default 10)
  --batching-window S         MaximumBatchingWindowInSeconds (default 0)
  --maximum-concurrency N     ScalingConfig.MaximumConcurrency, 2..1000 (default: the function's concurrency)
  --report-batch-item-failures  FunctionResponseTypes ["ReportBatchItemFailures"]
  --mapping-disabled          create the mapping disabled (enable it with UpdateEventSourceMapping)
env: AWS_REGION (default us-east-1); AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
     are passed to the function unless --env gives them.`;

// Keys Lambda sets itself and refuses in a function's configuration.
const RESERVED = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
]);

function log(line) {
  process.stderr.write(`${new Date().toISOString()} lambda: ${line}\n`);
}

class UsageError extends Error {}

function number(value, name, { min, max, integer = false }) {
  const n = Number(value);
  if (value === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`--${name}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function parseEnv(list) {
  const out = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env: expected KEY=VALUE, got "${item}"`);
    const key = item.slice(0, eq);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`--env: not an environment variable name: "${key}"`);
    if (RESERVED.has(key)) {
      throw new UsageError(`--env: ${key} is a reserved key that Lambda sets itself and does not let a function configure`);
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}

function configure(values, positionals, env) {
  if (positionals.length === 0) throw new UsageError("the bootstrap command is missing (after --)");
  const name = values["function-name"] ?? "function";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new UsageError(`--function-name: not a Lambda function name: "${name}"`);
  const region = env.AWS_REGION || "us-east-1";
  const taskRoot = path.resolve(values["task-root"] ?? process.cwd());
  const memoryMb = number(values.memory ?? "128", "memory", { min: 128, max: 10240, integer: true });
  const delays = (values["async-retry-delays"] ?? "60,120").split(",").map((d) => number(d, "async-retry-delays", { min: 0, max: 21600 }));
  const credentials = {};
  for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
    if (env[key] !== undefined) credentials[key] = env[key];
  }
  return {
    name,
    region,
    command: positionals,
    taskRoot,
    timeoutS: number(values.timeout ?? "3", "timeout", { min: 0.01, max: 900 }),
    initTimeoutS: number(values["init-timeout"] ?? "10", "init-timeout", { min: 0.01, max: 900 }),
    memoryMb,
    concurrency: number(values.concurrency ?? "10", "concurrency", { min: 1, max: 1000, integer: true }),
    runtimePortBase: number(values["runtime-api-port-base"] ?? "0", "runtime-api-port-base", { min: 0, max: 65535, integer: true }),
    asyncRetryDelaysS: delays,
    asyncMaxRetries: number(values["async-max-retries"] ?? "2", "async-max-retries", { min: 0, max: 2, integer: true }),
    functionLogPath: path.resolve(values["function-log"] ?? path.join(HERE, `.lambda-${name}.function.log`)),
    // What Lambda sets for an OS-only (provided) runtime; AWS_EXECUTION_ENV
    // is not among them for that runtime family.
    baseEnv: {
      PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      _HANDLER: values.handler ?? "bootstrap",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: path.resolve(values["runtime-dir"] ?? taskRoot),
      ...credentials,
    },
    userEnv: parseEnv(values.env),
  };
}

function mappingFromFlags(values, region) {
  const queue = values.queue;
  const given = {
    BatchSize: values["batch-size"] === undefined ? undefined : number(values["batch-size"], "batch-size", { min: 1, max: 10000, integer: true }),
    MaximumBatchingWindowInSeconds:
      values["batching-window"] === undefined ? undefined : number(values["batching-window"], "batching-window", { min: 0, max: 300, integer: true }),
    FunctionResponseTypes: values["report-batch-item-failures"] ? ["ReportBatchItemFailures"] : [],
    Enabled: !values["mapping-disabled"],
  };
  if (values["maximum-concurrency"] !== undefined) {
    given.ScalingConfig = { MaximumConcurrency: number(values["maximum-concurrency"], "maximum-concurrency", { min: 2, max: 1000, integer: true }) };
  }
  let arn = queue;
  if (/^https?:\/\//.test(queue)) arn = sqsArnForName(region, new URL(queue).pathname.split("/").filter(Boolean).pop());
  else if (!queue.startsWith("arn:")) arn = sqsArnForName(region, queue);
  return { arn, given };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: "string" },
        "function-name": { type: "string" },
        handler: { type: "string" },
        "task-root": { type: "string" },
        "runtime-dir": { type: "string" },
        env: { type: "string", multiple: true },
        timeout: { type: "string" },
        "init-timeout": { type: "string" },
        memory: { type: "string" },
        concurrency: { type: "string" },
        "runtime-api-port-base": { type: "string" },
        "async-retry-delays": { type: "string" },
        "async-max-retries": { type: "string" },
        "function-log": { type: "string" },
        "sqs-endpoint": { type: "string" },
        queue: { type: "string" },
        "batch-size": { type: "string" },
        "batching-window": { type: "string" },
        "maximum-concurrency": { type: "string" },
        "report-batch-item-failures": { type: "boolean" },
        "mapping-disabled": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    log(`${err.message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const env = process.env;
  let config;
  let port;
  let mappingFlags;
  try {
    config = configure(values, positionals, env);
    port = number(values.port ?? env.LOCALAWS_LAMBDA_PORT ?? "4569", "port", { min: 0, max: 65535, integer: true });
    if (values.queue !== undefined) mappingFlags = mappingFromFlags(values, config.region);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log(err.message);
    return 2;
  }
  const sqsEndpoint = values["sqs-endpoint"] ?? env.AWS_ENDPOINT_URL_SQS ?? "http://127.0.0.1:4566";
  const fn = new LambdaFunction({ ...config, functionLog: new FunctionLog(config.functionLogPath), logger: log });
  const mappings = new Map();
  if (mappingFlags) {
    try {
      const mapping = new SqsEventSourceMapping({ fn, eventSourceArn: mappingFlags.arn, sqsEndpoint, region: config.region, settings: mappingFlags.given, logger: log });
      mappings.set(mapping.uuid, mapping);
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
      log(`--queue: ${err.message}`);
      return 2;
    }
  }
  const api = createLambdaApi({ fn, region: config.region, sqsEndpoint, logger: log, mappings });
  try {
    await new Promise((resolve, reject) => {
      api.server.once("error", reject);
      api.server.listen(port, HOST, resolve);
    });
  } catch (err) {
    log(`cannot listen: ${err.message}`);
    return 1;
  }
  const bound = api.server.address().port;

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    await Promise.allSettled([...mappings.values()].map((m) => m.remove()));
    await fn.stop();
    api.server.close();
    api.server.closeAllConnections();
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  const mappingIds = [...mappings.keys()];
  process.stdout.write(
    `READY lambda=http://${HOST}:${bound} function=${fn.name} arn=${fn.arn} ` +
      `status=http://${HOST}:${bound}/status function-log=${config.functionLogPath}` +
      (mappingIds.length ? ` mapping=${mappingIds[0]}` : "") +
      "\n",
  );
  return undefined;
}

runMain(main, log);
