// An SQS event source mapping, as Lambda runs one
// (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): pollers
// receive from the queue, invoke the function with the batch, delete what
// succeeded and leave what failed to the queue's visibility timeout (and so
// to its redrive policy).
import { randomUUID } from "node:crypto";
import { callSqs } from "./sqs-client.js";
import { ACCOUNT } from "./lambda-function.js";

const RECEIVE_WAIT_S = 2; // long polling, short enough that disabling takes effect soon
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

export class MappingError extends Error {
  constructor(message, type = "InvalidParameterValueException") {
    super(message);
    this.type = type;
  }
}

// Checks and normalizes mapping settings as CreateEventSourceMapping /
// UpdateEventSourceMapping name them; `base` holds the current ones.
export function mappingSettings(given, base = {}) {
  const s = {
    BatchSize: given.BatchSize ?? base.BatchSize ?? 10,
    MaximumBatchingWindowInSeconds: given.MaximumBatchingWindowInSeconds ?? base.MaximumBatchingWindowInSeconds ?? 0,
    FunctionResponseTypes: given.FunctionResponseTypes ?? base.FunctionResponseTypes ?? [],
    ScalingConfig: given.ScalingConfig ?? base.ScalingConfig ?? {},
    Enabled: given.Enabled ?? base.Enabled ?? true,
  };
  const int = (v, lo, hi, name) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new MappingError(`${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  };
  int(s.BatchSize, 1, 10000, "BatchSize");
  int(s.MaximumBatchingWindowInSeconds, 0, 300, "MaximumBatchingWindowInSeconds");
  if (s.BatchSize > 10 && s.MaximumBatchingWindowInSeconds < 1) {
    throw new MappingError("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
  }
  if (!Array.isArray(s.FunctionResponseTypes) || s.FunctionResponseTypes.some((t) => t !== "ReportBatchItemFailures")) {
    throw new MappingError(`FunctionResponseTypes may only hold "ReportBatchItemFailures", got ${JSON.stringify(s.FunctionResponseTypes)}`);
  }
  if (s.ScalingConfig.MaximumConcurrency !== undefined) int(s.ScalingConfig.MaximumConcurrency, 2, 1000, "ScalingConfig.MaximumConcurrency");
  if (typeof s.Enabled !== "boolean") throw new MappingError("Enabled must be true or false");
  return s;
}

// The queue a mapping reads: from an SQS ARN (arn:aws:sqs:REGION:ACCOUNT:NAME).
export function queueUrlFromArn(arn, sqsEndpoint) {
  const m = /^arn:aws:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$/.exec(arn ?? "");
  if (!m) throw new MappingError(`EventSourceArn is not an SQS queue ARN: ${arn}`);
  return `${sqsEndpoint.replace(/\/$/, "")}/${m[2]}/${m[3]}`;
}

// The record Lambda builds from one received message.
export function sqsRecord(message, queueArn, region) {
  const messageAttributes = {};
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: a.StringValue,
      binaryValue: a.BinaryValue,
      stringListValues: a.StringListValues ?? [],
      binaryListValues: a.BinaryListValues ?? [],
      dataType: a.DataType,
    };
  }
  const attrs = message.Attributes ?? {};
  const attributes = {};
  for (const name of ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", "MessageGroupId", "MessageDeduplicationId", "SequenceNumber"]) {
    if (attrs[name] !== undefined) attributes[name] = attrs[name];
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

// Which records of a batch failed, from the function's answer with
// ReportBatchItemFailures on. null: the answer is invalid, so the whole
// batch failed (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
export function reportedFailures(body, records) {
  const text = body.toString("utf8").trim();
  if (text === "") return [];
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    return null;
  }
  if (answer === null) return [];
  if (typeof answer !== "object" || Array.isArray(answer)) return null;
  const list = answer.batchItemFailures;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return null;
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set();
  for (const item of list) {
    const id = item?.itemIdentifier;
    if (typeof id !== "string" || id === "" || !ids.has(id)) return null;
    failed.add(id);
  }
  return [...failed];
}

export class SqsEventSourceMapping {
  constructor({ fn, eventSourceArn, sqsEndpoint, region, settings, logger }) {
    this.uuid = randomUUID();
    this.fn = fn;
    this.eventSourceArn = eventSourceArn;
    this.queueUrl = queueUrlFromArn(eventSourceArn, sqsEndpoint);
    this.sqsEndpoint = sqsEndpoint;
    this.region = region;
    this.settings = mappingSettings(settings);
    this.logger = logger;
    this.lastModified = Date.now() / 1000;
    this.pollers = new Set();
    this.counters = { batches: 0, batches_failed: 0, batch_item_failures: 0, messages_received: 0, messages_deleted: 0, receive_errors: 0, delete_failures: 0 };
    this.generation = 0;
    this.apply();
  }

  get concurrency() {
    return Math.min(this.settings.ScalingConfig.MaximumConcurrency ?? Infinity, this.fn.config.concurrency);
  }

  update(given) {
    this.settings = mappingSettings(given, this.settings);
    this.lastModified = Date.now() / 1000;
    this.apply();
  }

  // Starts or stops pollers so that as many run as the settings ask for;
  // a changed setting restarts them (each finishes its batch first).
  apply() {
    this.generation++;
    if (this.settings.Enabled && !this.deleted) {
      for (let i = 0; i < this.concurrency; i++) this.startPoller(this.generation);
    }
  }

  startPoller(generation) {
    const poller = this.poll(generation).catch((err) => this.logger(`mapping ${this.uuid}: poller stopped: ${err.stack ?? err}`));
    this.pollers.add(poller);
    poller.finally(() => this.pollers.delete(poller));
  }

  live(generation) {
    return generation === this.generation && this.settings.Enabled && !this.deleted && !this.fn.stopping;
  }

  async receive(max, waitS) {
    const answer = await callSqs(this.sqsEndpoint, "ReceiveMessage", {
      QueueUrl: this.queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: waitS,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    });
    return answer.Messages ?? [];
  }

  async poll(generation) {
    if (!this.queueArn) {
      const attrs = await callSqs(this.sqsEndpoint, "GetQueueAttributes", { QueueUrl: this.queueUrl, AttributeNames: ["QueueArn"] });
      this.queueArn = attrs.Attributes?.QueueArn ?? this.eventSourceArn;
    }
    while (this.live(generation)) {
      let messages;
      try {
        messages = await this.gather(generation);
      } catch (err) {
        this.counters.receive_errors++;
        this.logger(`mapping ${this.uuid}: ReceiveMessage: ${err.message}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      await this.process(messages);
    }
  }

  // One batch: up to BatchSize messages, received until the batch is full,
  // the batching window closed or the payload would pass 6 MB.
  async gather(generation) {
    const { BatchSize, MaximumBatchingWindowInSeconds } = this.settings;
    const windowEnd = performance.now() + MaximumBatchingWindowInSeconds * 1000;
    const messages = [];
    let bytes = 0;
    for (;;) {
      const leftS = (windowEnd - performance.now()) / 1000;
      const waitS = messages.length === 0 ? Math.min(RECEIVE_WAIT_S, Math.max(1, Math.ceil(leftS))) : Math.max(0, Math.min(RECEIVE_WAIT_S, Math.floor(leftS)));
      const got = await this.receive(Math.min(10, BatchSize - messages.length), waitS);
      for (const m of got) {
        messages.push(m);
        bytes += Buffer.byteLength(m.Body ?? "") + 1024;
      }
      this.counters.messages_received += got.length;
      if (messages.length >= BatchSize || bytes >= MAX_EVENT_BYTES / 2) return messages;
      if (performance.now() >= windowEnd) return messages;
      if (!this.live(generation)) return messages;
    }
  }

  async process(messages) {
    const records = messages.map((m) => sqsRecord(m, this.queueArn, this.region));
    const payload = Buffer.from(JSON.stringify({ Records: records }));
    const result = await this.fn.run(payload, { wait: true });
    this.counters.batches++;
    this.fn.counters.batches++;
    if (!result.ok) {
      this.failBatch(`the function failed (${result.errorType})`, records.length);
      return;
    }
    let failed = [];
    if (this.settings.FunctionResponseTypes.includes("ReportBatchItemFailures")) {
      failed = reportedFailures(result.body, records);
      if (failed === null) {
        this.failBatch(`invalid batchItemFailures answer: ${result.body.toString("utf8").slice(0, 200)}`, records.length);
        return;
      }
      this.counters.batch_item_failures += failed.length;
      this.fn.counters.batch_item_failures += failed.length;
    }
    const failedIds = new Set(failed);
    await this.delete(records.filter((r) => !failedIds.has(r.messageId)));
  }

  failBatch(why, n) {
    this.counters.batches_failed++;
    this.fn.counters.batches_failed++;
    this.logger(`mapping ${this.uuid}: batch of ${n} left to the queue: ${why}`);
  }

  async delete(records) {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      try {
        const answer = await callSqs(this.sqsEndpoint, "DeleteMessageBatch", {
          QueueUrl: this.queueUrl,
          Entries: chunk.map((r, k) => ({ Id: String(k), ReceiptHandle: r.receiptHandle })),
        });
        const deleted = (answer.Successful ?? []).length;
        const failed = (answer.Failed ?? []).length;
        this.counters.messages_deleted += deleted;
        this.fn.counters.messages_deleted += deleted;
        this.counters.delete_failures += failed;
        this.fn.counters.delete_failures += failed;
        if (failed) this.logger(`mapping ${this.uuid}: DeleteMessageBatch failed for ${failed} messages: ${JSON.stringify(answer.Failed)}`);
      } catch (err) {
        this.counters.delete_failures += chunk.length;
        this.fn.counters.delete_failures += chunk.length;
        this.logger(`mapping ${this.uuid}: DeleteMessageBatch: ${err.message}`);
      }
    }
  }

  state() {
    if (this.deleted) return "Deleting";
    return this.settings.Enabled ? "Enabled" : "Disabled";
  }

  // The mapping as the Lambda API describes it.
  describe() {
    const out = {
      UUID: this.uuid,
      BatchSize: this.settings.BatchSize,
      MaximumBatchingWindowInSeconds: this.settings.MaximumBatchingWindowInSeconds,
      EventSourceArn: this.eventSourceArn,
      FunctionArn: this.fn.arn,
      LastModified: this.lastModified,
      State: this.state(),
      StateTransitionReason: "USER_INITIATED",
      FunctionResponseTypes: this.settings.FunctionResponseTypes,
    };
    if (this.settings.ScalingConfig.MaximumConcurrency !== undefined) out.ScalingConfig = this.settings.ScalingConfig;
    return out;
  }

  status() {
    return { ...this.describe(), QueueUrl: this.queueUrl, pollers: this.pollers.size, ...this.counters };
  }

  async remove() {
    this.deleted = true;
    this.generation++;
    await Promise.allSettled([...this.pollers]);
  }
}

export function sqsArnForName(region, name) {
  return `arn:aws:sqs:${region}:${ACCOUNT}:${name}`;
}
