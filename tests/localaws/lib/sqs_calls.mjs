#!/usr/bin/env node
// Makes several SQS calls in one process (a node start per call is slow):
//   sqs_calls.mjs '[["CreateQueue", {...}], ["SendMessage", {...}], ...]'
// one after the other, and prints their answers as one JSON array. Exits 1
// on the first error answer. Endpoint: $AWS_ENDPOINT_URL_SQS.
import { callSqs } from "../../../tools/localaws/lib/sqs-client.js";

const calls = JSON.parse(process.argv[2] ?? "[]");
const answers = [];
try {
  for (const [action, params] of calls) answers.push(await callSqs(process.env.AWS_ENDPOINT_URL_SQS, action, params));
} catch (err) {
  process.stderr.write(`sqs_calls: ${err.message}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(answers) + "\n");
