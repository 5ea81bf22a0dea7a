#!/usr/bin/env node
// The local AWS stack in one process, on 127.0.0.1 only:
//   S3 + SQS   fauxqs 1.9.2, plus S3 event notifications to SQS
//   DynamoDB   dynalite (in memory, or on disk with --path DIR)
//   admin      health, fault injection rules and counters
// Prints "READY s3-sqs=URL dynamodb=URL admin=URL" once all three listen.
import { parseArgs } from "node:util";
import { FaultSet, freshSeed, parseSeed } from "./lib/faults.js";
import { createS3SqsService } from "./lib/s3sqs.js";
import { createDynamoDbService } from "./lib/dynamodb.js";
import { createAdminService } from "./lib/admin.js";
import { runMain } from "./lib/run-main.js";
import { openOperationLog } from "./lib/operation-log.js";

const HOST = "127.0.0.1";
const USAGE = `usage: server.js [--s3-sqs-port P] [--dynamodb-port P] [--admin-port P] [--path DIR] [--fault-seed N] [--operation-log F] [--self-check]
  ports default to $LOCALAWS_S3_SQS_PORT, $LOCALAWS_DYNAMODB_PORT, $LOCALAWS_ADMIN_PORT or 4566/4567/4568
  --path DIR      keep DynamoDB tables on disk in DIR (default: in memory)
  --fault-seed N  seed (0..4294967295) of the fault rules' random draws; default
                  $LOCALAWS_FAULT_SEED, else a fresh one; shown in the READY line
  --operation-log F  write one JSON line per served call to F (service, operation,
                  targets, S3 key, User-Agent); default $LOCALAWS_OPERATION_LOG, else none
  --self-check    check the fauxqs S3 hook, print the result and exit (0 when it works)
env: AWS_REGION (default us-east-1), LOCALAWS_FAULTS (JSON fault rules active from the start),
     LOCALAWS_FAULT_SEED, LOCALAWS_OPERATION_LOG`;

function log(line) {
  process.stderr.write(`${new Date().toISOString()} localaws: ${line}\n`);
}

function port(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: not a port: ${value}`);
  return n;
}

function listen(server, portNumber) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(portNumber, HOST, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      "s3-sqs-port": { type: "string" },
      "dynamodb-port": { type: "string" },
      "admin-port": { type: "string" },
      path: { type: "string" },
      "fault-seed": { type: "string" },
      "operation-log": { type: "string" },
      "self-check": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const env = process.env;
  const ports = {
    s3sqs: port(values["s3-sqs-port"] ?? env.LOCALAWS_S3_SQS_PORT ?? 4566, "s3-sqs port"),
    dynamodb: port(values["dynamodb-port"] ?? env.LOCALAWS_DYNAMODB_PORT ?? 4567, "dynamodb port"),
    admin: port(values["admin-port"] ?? env.LOCALAWS_ADMIN_PORT ?? 4568, "admin port"),
  };
  const region = env.AWS_REGION || "us-east-1";

  let faultSeed;
  try {
    const given = values["fault-seed"] ?? env.LOCALAWS_FAULT_SEED;
    faultSeed = given === undefined || given === "" ? freshSeed() : parseSeed(given, "fault seed");
  } catch (err) {
    log(err.message);
    return 2;
  }
  log(`fault seed ${faultSeed}`);
  let onCall;
  const operationLog = values["operation-log"] ?? env.LOCALAWS_OPERATION_LOG;
  if (operationLog) {
    try {
      onCall = openOperationLog(operationLog);
    } catch (err) {
      log(`--operation-log ${operationLog}: cannot open it: ${err.message}`);
      return 2;
    }
    log(`operation log ${operationLog}`);
  }
  const faults = new FaultSet({ seed: faultSeed, onCall });
  if (env.LOCALAWS_FAULTS) {
    try {
      faults.replace(JSON.parse(env.LOCALAWS_FAULTS));
    } catch (err) {
      log(`LOCALAWS_FAULTS: ${err.message}`);
      return 2;
    }
  }

  const s3sqs = await createS3SqsService({
    region,
    faults,
    logger: log,
    // Only for the test that proves the self-check catches a missing hook.
    hookDisabled: env.LOCALAWS_TEST_DISABLE_S3_HOOK === "1",
  });
  if (values["self-check"]) {
    process.stdout.write(JSON.stringify(s3sqs.hookCheck) + "\n");
    await s3sqs.close();
    return s3sqs.hookCheck.ok ? 0 : 1;
  }
  if (!s3sqs.hookCheck.ok) {
    log(`the fauxqs S3 hook does not work, so S3 event notifications would be lost: ${s3sqs.hookCheck.problems.join("; ")}`);
    await s3sqs.close();
    return 1;
  }
  const dynamodb = createDynamoDbService({
    faults,
    logger: log,
    dataPath: values.path,
    createTableMs: Number(env.LOCALAWS_DYNAMODB_TABLE_MS ?? 0),
  });
  const started = new Date().toISOString();
  const admin = createAdminService({
    faults,
    notifier: s3sqs.notifier,
    health: () => ({
      ok: s3sqs.server.listening && dynamodb.server.listening && s3sqs.hookCheck.ok,
      started,
      pid: process.pid,
      region,
      fault_seed: faults.seed,
      s3_sqs: { listening: s3sqs.server.listening, port: bound.s3sqs },
      dynamodb: { listening: dynamodb.server.listening, port: bound.dynamodb, path: values.path ?? null },
      s3_notification_hook: s3sqs.hookCheck,
    }),
  });
  const bound = {};
  try {
    bound.s3sqs = await listen(s3sqs.server, ports.s3sqs);
    bound.dynamodb = await listen(dynamodb.server, ports.dynamodb);
    bound.admin = await listen(admin.server, ports.admin);
  } catch (err) {
    log(`cannot listen: ${err.message}`);
    return 1;
  }

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    await Promise.allSettled([admin.close(), s3sqs.close(), dynamodb.close()]);
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  process.stdout.write(
    `READY s3-sqs=http://${HOST}:${bound.s3sqs} dynamodb=http://${HOST}:${bound.dynamodb} admin=http://${HOST}:${bound.admin} fault-seed=${faults.seed}\n`,
  );
  return undefined;
}

runMain(main, log);
