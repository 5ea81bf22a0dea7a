#!/usr/bin/env bash
# S3 event notifications to SQS: TestEvent, ObjectCreated:Put/Copy/
# CompleteMultipartUpload records shaped like real S3's, key encoding,
# size/eTag, prefix/suffix filters, destination validation.
source "$(dirname "$0")/lib/common.sh"

bucket=$(unique_name notif)
other_bucket=$(unique_name notif-src)
queue=$(unique_name notif-q)
create_bucket "$bucket"
create_bucket "$other_bucket"
queue_url=$(create_queue "$queue")
queue_arn="arn:aws:sqs:us-east-1:000000000000:$queue"

# A destination queue that does not exist is refused, as S3 validates it.
cat >"$WORK_DIR/bad.json" <<JSON
{"QueueConfigurations":[{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:$queue-missing","Events":["s3:ObjectCreated:*"]}]}
JSON
if err=$(s3 s3api put-bucket-notification-configuration --bucket "$bucket" \
  --notification-configuration "file://$WORK_DIR/bad.json" 2>&1); then
  fail "configuration naming a missing queue was accepted"
fi
expect_match "missing destination queue refused" "InvalidArgument" "$err"

cat >"$WORK_DIR/config.json" <<JSON
{"QueueConfigurations":[{"Id":"incoming-json","QueueArn":"$queue_arn","Events":["s3:ObjectCreated:*"],
 "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in coming/"},{"Name":"suffix","Value":".json"}]}}}]}
JSON
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/config.json"
got=$(s3 s3api get-bucket-notification-configuration --bucket "$bucket" |
  jq -c '.QueueConfigurations[0] | [.Id, .QueueArn, .Events, (.Filter.Key.FilterRules | map(.Name + "=" + .Value))]')
expect_eq "configuration reads back" "[\"incoming-json\",\"$queue_arn\",[\"s3:ObjectCreated:*\"],[\"Prefix=in coming/\",\"Suffix=.json\"]]" "$got"

messages=$(drain_queue "$queue_url")
expect_eq "one message after configuring" 1 "$(grep -c . <<<"$messages")"
expect_eq "it is the s3:TestEvent" "Amazon S3 s3:TestEvent $bucket" "$(jq -r '"\(.Service) \(.Event) \(.Bucket)"' <<<"$messages")"
expect_match "TestEvent Time is ISO-8601 with ms" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$(jq -r .Time <<<"$messages")"
expect_match "TestEvent has RequestId and HostId" '^[0-9A-F]{16} .+$' "$(jq -r '"\(.RequestId) \(.HostId)"' <<<"$messages")"

# Putting the same configuration again sends no second TestEvent for the queue.
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/config.json"
expect_eq "no TestEvent for an already configured queue" "" "$(drain_queue "$queue_url")"

# PutObject of a key with a space, '+' and a non-ASCII letter.
key="in coming/é x+y.json"
printf '{"order":1}\n{"order":2}\n' >"$WORK_DIR/small.json"
s3 s3 cp "$WORK_DIR/small.json" "s3://$bucket/$key" >/dev/null
# Filtered out: wrong prefix, wrong suffix.
s3 s3 cp "$WORK_DIR/small.json" "s3://$bucket/elsewhere/a.json" >/dev/null
s3 s3 cp "$WORK_DIR/small.json" "s3://$bucket/in coming/a.csv" >/dev/null
head=$(s3 s3api head-object --bucket "$bucket" --key "$key")
messages=$(drain_queue "$queue_url")
expect_eq "one record for three puts (filters exclude two)" 1 "$(grep -c . <<<"$messages")"
record=$(jq -c '.Records[0]' <<<"$messages")
expect_eq "one record per message" 1 "$(jq '.Records | length' <<<"$messages")"
expect_eq "eventName" "ObjectCreated:Put" "$(jq -r .eventName <<<"$record")"
expect_eq "eventVersion/eventSource/awsRegion" "2.1 aws:s3 us-east-1" "$(jq -r '"\(.eventVersion) \(.eventSource) \(.awsRegion)"' <<<"$record")"
expect_match "eventTime is ISO-8601 with ms" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$(jq -r .eventTime <<<"$record")"
expect_eq "key is URL-encoded as S3 does" "in+coming/%C3%A9+x%2By.json" "$(jq -r .s3.object.key <<<"$record")"
expect_eq "size matches head-object" "$(jq -r .ContentLength <<<"$head")" "$(jq -r .s3.object.size <<<"$record")"
expect_eq "eTag matches head-object, unquoted" "$(jq -r .ETag <<<"$head" | tr -d '"')" "$(jq -r .s3.object.eTag <<<"$record")"
expect_eq "no versionId without versioning" "false" "$(jq '.s3.object | has("versionId")' <<<"$record")"
expect_eq "bucket block" "$bucket arn:aws:s3:::$bucket" "$(jq -r '.s3.bucket | "\(.name) \(.arn)"' <<<"$record")"
expect_eq "configurationId" "incoming-json" "$(jq -r .s3.configurationId <<<"$record")"
expect_eq "schema and source IP" "1.0 127.0.0.1" "$(jq -r '"\(.s3.s3SchemaVersion) \(.requestParameters.sourceIPAddress)"' <<<"$record")"
expect_match "principals and response elements present" '^[^ ]+ [^ ]+ [0-9A-F]{16} [^ ]+$' \
  "$(jq -r '"\(.userIdentity.principalId) \(.s3.bucket.ownerIdentity.principalId) \(.responseElements["x-amz-request-id"]) \(.responseElements["x-amz-id-2"])"' <<<"$record")"
first_sequencer=$(jq -r .s3.object.sequencer <<<"$record")
expect_match "sequencer is hex" '^[0-9A-F]+$' "$first_sequencer"
# The decoded key names the object that exists.
decoded=$(jq -r .s3.object.key <<<"$record" | python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote_plus(sys.stdin.read().strip()))')
expect_eq "decoded key is the object's key" "$key" "$decoded"

# Multipart: aws s3 cp of a 9 MiB file uploads in 8 MiB parts.
head -c $((9 * 1024 * 1024)) /dev/urandom >"$WORK_DIR/big.json"
s3 s3 cp "$WORK_DIR/big.json" "s3://$bucket/in coming/big.json" >/dev/null
head=$(s3 s3api head-object --bucket "$bucket" --key "in coming/big.json")
record=$(drain_queue "$queue_url" | jq -c '.Records[0]')
expect_eq "multipart eventName" "ObjectCreated:CompleteMultipartUpload" "$(jq -r .eventName <<<"$record")"
expect_eq "multipart size" $((9 * 1024 * 1024)) "$(jq -r .s3.object.size <<<"$record")"
expect_match "multipart eTag is md5-of-md5s-N" '^[0-9a-f]{32}-2$' "$(jq -r .s3.object.eTag <<<"$record")"
expect_eq "multipart eTag matches head-object" "$(jq -r .ETag <<<"$head" | tr -d '"')" "$(jq -r .s3.object.eTag <<<"$record")"
second_sequencer=$(jq -r .s3.object.sequencer <<<"$record")
if ! [[ ${#second_sequencer} -eq ${#first_sequencer} && "$second_sequencer" > "$first_sequencer" ]]; then
  fail "sequencer did not increase: $first_sequencer then $second_sequencer"
fi
ok "sequencer increases"

# Copy from another bucket into the configured one.
s3 s3 cp "$WORK_DIR/small.json" "s3://$other_bucket/src.json" >/dev/null
s3 s3 cp "s3://$other_bucket/src.json" "s3://$bucket/in coming/copied.json" >/dev/null
records=$(drain_queue "$queue_url" | jq -c '.Records[]')
expect_eq "one record for a copy" 1 "$(grep -c . <<<"$records")"
expect_eq "copy eventName" "ObjectCreated:Copy" "$(jq -r .eventName <<<"$records")"
expect_eq "copy key" "in+coming/copied.json" "$(jq -r .s3.object.key <<<"$records")"

# Specific event types: a Copy-only configuration ignores plain puts.
cat >"$WORK_DIR/copy-only.json" <<JSON
{"QueueConfigurations":[{"Id":"copies","QueueArn":"$queue_arn","Events":["s3:ObjectCreated:Copy"]}]}
JSON
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/copy-only.json"
s3 s3 cp "$WORK_DIR/small.json" "s3://$bucket/put.json" >/dev/null
s3 s3 cp "s3://$bucket/put.json" "s3://$bucket/copy.json" >/dev/null
names=$(drain_queue "$queue_url" | jq -r '.Records[] | "\(.eventName) \(.s3.object.key) \(.s3.configurationId)"')
expect_eq "Copy-only configuration sends only the copy" "ObjectCreated:Copy copy.json copies" "$names"

# Overlapping configurations are refused as S3 refuses them; disjoint ones,
# even with one event type in common, are accepted.
cat >"$WORK_DIR/overlap.json" <<JSON
{"QueueConfigurations":[{"Id":"a","QueueArn":"$queue_arn","Events":["s3:ObjectCreated:*"],
  "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"}]}}},
 {"Id":"b","QueueArn":"$queue_arn","Events":["s3:ObjectCreated:Put"],
  "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/sub/"}]}}}]}
JSON
if err=$(s3 s3api put-bucket-notification-configuration --bucket "$bucket" \
  --notification-configuration "file://$WORK_DIR/overlap.json" 2>&1); then
  fail "overlapping configurations were accepted"
fi
expect_match "overlapping configurations refused" "Configurations overlap" "$err"
jq '.QueueConfigurations[1].Filter.Key.FilterRules[0].Value = "out/"' "$WORK_DIR/overlap.json" >"$WORK_DIR/disjoint.json"
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/disjoint.json"
expect_eq "disjoint prefixes accepted" "a b" "$(s3 s3api get-bucket-notification-configuration --bucket "$bucket" | jq -r '[.QueueConfigurations[].Id] | join(" ")')"
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/copy-only.json"

# Versioning is not emulated: turning it on is refused, reading it says off.
if s3 s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled 2>"$WORK_DIR/err"; then
  fail "put-bucket-versioning claimed to work"
fi
expect_match "versioning refused as NotImplemented" "NotImplemented" "$(cat "$WORK_DIR/err")"
expect_eq "versioning reads as never enabled" "" "$(s3 s3api get-bucket-versioning --bucket "$bucket")"

# An empty configuration removes notifications.
echo '{}' >"$WORK_DIR/empty.json"
s3 s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration "file://$WORK_DIR/empty.json"
s3 s3 cp "s3://$bucket/put.json" "s3://$bucket/copy2.json" >/dev/null
expect_eq "no messages after clearing the configuration" "" "$(drain_queue "$queue_url")"
