#!/usr/bin/env node
// Reads every message of one SQS queue over the JSON protocol and prints each
// as one JSON line (MessageId, Body, Attributes...). Independent of
// salesflow's own SQS client, and one process for the whole queue (a CLI call
// per receive is far slower). A long visibility timeout makes each message
// come once; it stops after two empty receives in a row, or fails after
// --max-receives calls. Messages are not deleted.
//   drain-queue.mjs --endpoint URL --queue NAME [--max-receives N] [--visibility S]
// Requests are SigV4-signed with the environment's credentials by the local
// stack's SQS client (tools/localaws/lib/sqs-client.js).
import { callSqs } from "../../../tools/localaws/lib/sqs-client.js";

async function main(argv) {
  const options = { endpoint: process.env.AWS_ENDPOINT_URL_SQS, queue: "", maxReceives: 5000, visibility: 900 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--endpoint") options.endpoint = argv[++i];
    else if (argv[i] === "--queue") options.queue = argv[++i];
    else if (argv[i] === "--max-receives") options.maxReceives = Number(argv[++i]);
    else if (argv[i] === "--visibility") options.visibility = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.endpoint || !options.queue) throw new Error("needs --endpoint and --queue");
  const queueUrl = `${options.endpoint.replace(/\/$/, "")}/000000000000/${options.queue}`;
  let empty = 0;
  for (let calls = 0; empty < 2; calls++) {
    if (calls >= options.maxReceives) throw new Error(`more than ${options.maxReceives} receives`);
    const answer = await callSqs(options.endpoint, "ReceiveMessage", {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: options.visibility,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
    });
    const messages = answer.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const message of messages) process.stdout.write(JSON.stringify(message) + "\n");
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`drain-queue: ${err.message}\n`);
    process.exit(1);
  },
);
