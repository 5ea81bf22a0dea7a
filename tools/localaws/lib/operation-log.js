// The operation log (server.js --operation-log FILE): one JSON line per call
// the stack serves, {"service","operation","targets","key","agent"}, so that
// a test can see which AWS operations a client really sent, on which
// resources (tests/deploy/least_privilege.sh). `agent` is the User-Agent
// header: salesflow sends "salesflow/VERSION command/COMMAND".
import { openSync, writeSync } from "node:fs";

export function openOperationLog(path) {
  // Truncated: a stack starts empty, and so does its log.
  const fd = openSync(path, "w");
  return (call) => {
    const line = { service: call.service, operation: call.operation, targets: call.targets };
    if (call.key !== undefined) line.key = call.key;
    line.agent = call.agent ?? "";
    // Synchronous: a line is in the file before the answer leaves.
    writeSync(fd, JSON.stringify(line) + "\n");
  };
}
