#pragma once
// S3 over REST/XML: streamed, resumable GetObject and the bucket and object
// calls the worker and its setup need. Path-style addressing on custom
// endpoints, virtual-hosted on AWS.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "aws/service.hpp"

namespace salesflow::aws {

struct ObjectInfo {
  std::uint64_t size = 0;  // of the whole object
  std::string etag;        // as S3 sends it, quotes included
  std::string version_id;  // empty when unversioned
  std::string last_modified;
  std::string content_type;
};

struct GetObjectOptions {
  std::optional<std::uint64_t> range_start;
  std::optional<std::uint64_t> range_end;  // inclusive
  std::string if_match;                    // ETag; empty: pinned to the first response's
  std::string version_id;
  std::optional<RetryPolicy> policy;  // failures without progress; the client's when empty
};

struct PutObjectResult {
  std::string etag;
  std::string version_id;
};

struct ObjectSummary {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};

struct ListObjectsPage {
  std::vector<ObjectSummary> objects;
  std::string next_continuation_token;  // empty: last page
};

struct QueueNotification {
  std::string id;
  std::string queue_arn;
  std::vector<std::string> events = {"s3:ObjectCreated:*"};
  std::string prefix;
  std::string suffix;
  friend bool operator==(const QueueNotification&, const QueueNotification&) = default;
};

// What merging a queue configuration into a bucket's notification
// configuration changed.
enum class NotificationChange { added, replaced, unchanged };

struct MergedNotification {
  std::string document;  // the whole NotificationConfiguration to PUT back
  NotificationChange change = NotificationChange::added;
};

// Pure: `existing` is the body GetBucketNotificationConfiguration answered
// (empty or an empty NotificationConfiguration when none is set). The
// QueueConfiguration whose Id is `queue.id` is replaced by `queue` (or `queue`
// appended); every other configuration — queues, topics, functions,
// EventBridge — is copied through untouched, so merging never drops what
// another owner of the bucket set up. Fails on XML that is not a
// NotificationConfiguration, or when `queue.id` is empty.
[[nodiscard]] tl::expected<MergedNotification, std::string> merge_queue_notification(
    std::string_view existing, const QueueNotification& queue);

class S3Client {
 public:
  // `path_style`: address buckets as host/bucket/key rather than
  // bucket.host/key. Unset: path style on custom endpoints (local stacks answer
  // on one host), virtual-hosted on AWS; AwsConfig::s3_path_style is the value
  // resolved from the overrides and the profile's s3.addressing_style. Bucket
  // names that are no DNS label always go path style.
  [[nodiscard]] static Result<S3Client> create(ClientConfig config,
                                               std::optional<bool> path_style = std::nullopt);

  // Streams the object (or range) to `on_chunk` on the caller's thread. A
  // connection dropped mid-body is resumed from the next byte with a Range
  // request pinned by If-Match (and versionId): the sink sees every byte once.
  // An object replaced meanwhile fails with PreconditionFailed (412).
  [[nodiscard]] Result<ObjectInfo> get_object(const std::string& bucket, const std::string& key,
                                              const ChunkSink& on_chunk,
                                              GetObjectOptions options = {});
  [[nodiscard]] Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key,
                                               const std::string& version_id = {});

  void put_object_async(std::string bucket, std::string key, std::string body,
                        std::function<void(Result<PutObjectResult>)> done,
                        std::string content_type = "application/octet-stream");
  [[nodiscard]] Result<PutObjectResult> put_object(
      std::string bucket, std::string key, std::string body,
      std::string content_type = "application/octet-stream");
  [[nodiscard]] Result<void> delete_object(const std::string& bucket, const std::string& key);

  [[nodiscard]] Result<ListObjectsPage> list_objects(const std::string& bucket,
                                                     const std::string& prefix = {},
                                                     const std::string& continuation_token = {},
                                                     int max_keys = 1000);
  [[nodiscard]] Result<std::vector<ObjectSummary>> list_all_objects(const std::string& bucket,
                                                                    const std::string& prefix = {});

  // false when it already existed (BucketAlreadyOwnedByYou counts as success).
  [[nodiscard]] Result<Creation> create_bucket(const std::string& bucket);
  // Replaces the bucket's whole notification configuration with `queues`.
  [[nodiscard]] Result<void> put_bucket_notification(const std::string& bucket,
                                                     const std::vector<QueueNotification>& queues);
  // Get, merge_queue_notification, and a PUT only when something changed (a
  // PUT makes S3 send a TestEvent to new destinations and validate every
  // one). S3 has no conditional write for this configuration: a change made
  // by someone else between the GET and the PUT is overwritten, so configure
  // a bucket from one place at a time.
  [[nodiscard]] Result<NotificationChange> merge_bucket_notification(
      const std::string& bucket, const QueueNotification& queue);

 private:
  S3Client(std::shared_ptr<ServiceRuntime> runtime, std::optional<bool> path_style)
      : runtime_(std::move(runtime)), path_style_(path_style) {}
  [[nodiscard]] Result<void> put_notification_document(const std::string& bucket,
                                                       std::string document);
  ServiceCall object_call(std::string operation, std::string method, const std::string& bucket,
                          const std::string& key, std::string query = {}) const;
  std::shared_ptr<ServiceRuntime> runtime_;
  std::optional<bool> path_style_;
};

}  // namespace salesflow::aws
