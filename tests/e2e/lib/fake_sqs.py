#!/usr/bin/env python3
"""A scripted SQS (JSON protocol) on 127.0.0.1 for failure paths the local
stack cannot produce: answers GetQueueUrl, ReceiveMessage from a fixed list
of envelopes, and ChangeMessageVisibilityBatch with some entries Failed.
Logs every call as a JSON line to --log. Prints its port on stdout.
  fake_sqs.py --log FILE [--fail-handback N] [--receive-error-after K]
--fail-handback N: the last N entries of every ChangeMessageVisibilityBatch fail.
--receive-error-after K: the receives after the K-th answer AccessDenied.
"""
import argparse
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def envelope(i):
    return json.dumps({"schema": "salesflow.dlq/1", "id": f"{i:032x}", "kind": "record",
                       "reasons": [{"code": "missing", "path": "/contact-info", "message": "m"}],
                       "source": {"bucket": "b", "key": "k.jsonl", "version_id": None, "etag": "e"},
                       "record": {"index": i, "offset": 0, "line": i + 1}, "raw_bytes": 2,
                       "raw": "{}"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-handback", type=int, default=0)
    parser.add_argument("--receive-error-after", type=int, default=-1)
    parser.add_argument("--messages", type=int, default=3)
    args = parser.parse_args()
    state = {"receives": 0, "delivered": False}
    log = open(args.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "fake")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            action = self.headers.get("X-Amz-Target", "").split(".")[-1]
            log.write(json.dumps({"action": action, "request": request}) + "\n")
            if action == "GetQueueUrl":
                port = self.server.server_address[1]
                return self.answer(200, {"QueueUrl": f"http://127.0.0.1:{port}/000000000000/{request['QueueName']}"})
            if action == "ReceiveMessage":
                state["receives"] += 1
                if 0 <= args.receive_error_after < state["receives"]:
                    return self.answer(400, {"__type": "com.amazonaws.sqs#AccessDenied",
                                             "message": "scripted refusal"})
                if state["delivered"]:
                    return self.answer(200, {"Messages": []})
                state["delivered"] = True
                messages = []
                for i in range(args.messages):
                    body = envelope(i)
                    messages.append({"MessageId": f"m-{i}", "ReceiptHandle": f"h-{i}",
                                     "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
                                     "Body": body, "Attributes": {"ApproximateReceiveCount": "1"}})
                return self.answer(200, {"Messages": messages})
            if action == "ChangeMessageVisibilityBatch":
                entries = request.get("Entries", [])
                cut = max(0, len(entries) - args.fail_handback)
                return self.answer(200, {
                    "Successful": [{"Id": e["Id"]} for e in entries[:cut]],
                    "Failed": [{"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True,
                                "Message": "scripted failure"} for e in entries[cut:]]})
            return self.answer(400, {"__type": "com.amazonaws.sqs#InvalidAction", "message": action})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
