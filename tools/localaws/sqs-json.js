#!/usr/bin/env node
// Calls one SQS action over the JSON protocol (the one fauxqs speaks; Debian's
// aws CLI 2.9 still speaks the query protocol). The request is SigV4-signed
// with the environment's credentials (lib/sqs-client.js).
//   sqs-json.js ACTION [JSON]     e.g. sqs-json.js CreateQueue '{"QueueName":"q"}'
// Endpoint: --endpoint URL, else $AWS_ENDPOINT_URL_SQS, else http://127.0.0.1:4566.
// Prints the response body; exits 0 on 2xx, 1 on an error answer, 2 on bad use.
import { sendSqsAction } from "./lib/sqs-client.js";

async function main(argv) {
  let endpoint = process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL || "http://127.0.0.1:4566";
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--endpoint") endpoint = argv[++i];
    else args.push(argv[i]);
  }
  if (args.length < 1 || args.length > 2) {
    process.stderr.write("usage: sqs-json.js [--endpoint URL] ACTION [JSON]\n");
    return 2;
  }
  const [action, json = "{}"] = args;
  try {
    JSON.parse(json);
  } catch (err) {
    process.stderr.write(`sqs-json: request is not JSON: ${err.message}\n`);
    return 2;
  }
  const { ok, status, text } = await sendSqsAction(endpoint, action, json);
  process.stdout.write(text + (text.endsWith("\n") ? "" : "\n"));
  if (!ok) process.stderr.write(`sqs-json: ${action} answered HTTP ${status}\n`);
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`sqs-json: ${err.message}${err.cause ? `: ${err.cause.message}` : ""}\n`);
    process.exit(1);
  },
);
