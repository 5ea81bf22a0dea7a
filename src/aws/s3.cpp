#include "aws/s3.hpp"

#include <fmt/format.h>

#include <charconv>
#include <pugixml.hpp>
#include <sstream>
#include <thread>
#include <utility>

#include "aws/detail/uri.hpp"
#include "base/text.hpp"

namespace salesflow::aws {

namespace {

std::uint64_t to_u64(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string header_or_empty(const HttpResponse& response, std::string_view name) {
  const auto value = response.header(name);
  return value ? std::string(*value) : std::string();
}

// Size of the whole object: the total of "Content-Range: bytes a-b/total",
// else Content-Length.
ObjectInfo object_info(const HttpResponse& response) {
  ObjectInfo info;
  info.etag = header_or_empty(response, "ETag");
  info.version_id = header_or_empty(response, "x-amz-version-id");
  info.last_modified = header_or_empty(response, "Last-Modified");
  info.content_type = header_or_empty(response, "Content-Type");
  const std::string range = header_or_empty(response, "Content-Range");
  if (const auto slash = range.rfind('/');
      slash != std::string::npos && range.substr(slash + 1) != "*") {
    info.size = to_u64(std::string_view(range).substr(slash + 1));
  } else {
    info.size = to_u64(header_or_empty(response, "Content-Length"));
  }
  return info;
}

std::string xml_text(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw);
  return out.str();
}

constexpr const char* kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

void fill_queue_configuration(pugi::xml_node node, const QueueNotification& queue) {
  if (!queue.id.empty()) node.append_child("Id").text() = queue.id.c_str();
  node.append_child("Queue").text() = queue.queue_arn.c_str();
  for (const std::string& event : queue.events) node.append_child("Event").text() = event.c_str();
  if (!queue.prefix.empty() || !queue.suffix.empty()) {
    auto rules = node.append_child("Filter").append_child("S3Key");
    for (const auto& [name, value] :
         {std::pair{"prefix", &queue.prefix}, std::pair{"suffix", &queue.suffix}}) {
      if (value->empty()) continue;
      auto rule = rules.append_child("FilterRule");
      rule.append_child("Name").text() = name;
      rule.append_child("Value").text() = value->c_str();
    }
  }
}

// S3 answers filter rule names capitalised ("Prefix"); they compare without
// case.
QueueNotification parse_queue_configuration(const pugi::xml_node node) {
  QueueNotification queue;
  queue.id = node.child_value("Id");
  queue.queue_arn = node.child_value("Queue");
  queue.events.clear();
  for (const pugi::xml_node event : node.children("Event"))
    queue.events.emplace_back(event.text().get());
  for (const pugi::xml_node rule : node.child("Filter").child("S3Key").children("FilterRule")) {
    const std::string_view name = rule.child_value("Name");
    if (base::iequals(name, "prefix")) queue.prefix = rule.child_value("Value");
    if (base::iequals(name, "suffix")) queue.suffix = rule.child_value("Value");
  }
  return queue;
}

// The element holding a bucket's configurations in `body` (parsed into
// `document`); a null node for an empty body. S3 answers
// <NotificationConfiguration>; some S3-compatible stores wrap it, or answer an
// empty configuration as an empty element of another name (moto:
// <GetBucketNotificationResponse/>). A wrapper is taken only when it holds a
// NotificationConfiguration or nothing but configurations, so that an error
// document is never read as "no notifications" and written back over the
// bucket's real ones.
tl::expected<pugi::xml_node, std::string> notification_configuration(pugi::xml_document& document,
                                                                     std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return pugi::xml_node();
  const auto parsed = document.load_buffer(body.data(), body.size());
  if (!parsed) return tl::make_unexpected(fmt::format("malformed XML ({})", parsed.description()));
  const pugi::xml_node root = document.document_element();
  if (std::string_view(root.name()) == "NotificationConfiguration") return root;
  if (const auto inner = root.child("NotificationConfiguration")) return inner;
  for (const pugi::xml_node child : root.children()) {
    const std::string_view name = child.name();
    if (child.type() == pugi::node_element && !name.ends_with("Configuration")) {
      return tl::make_unexpected(fmt::format(
          "expected a NotificationConfiguration, got <{}> holding <{}>", root.name(), name));
    }
  }
  return root;
}

}  // namespace

Result<S3Client> S3Client::create(ClientConfig config, std::optional<bool> path_style) {
  auto runtime = ServiceRuntime::create(std::move(config), "s3", "s3", "s3", parse_xml_error);
  if (!runtime) return tl::unexpected(runtime.error());
  return S3Client(std::move(*runtime), path_style);
}

ServiceCall S3Client::object_call(std::string operation, std::string method,
                                  const std::string& bucket, const std::string& key,
                                  std::string query) const {
  ServiceCall call;
  call.operation = std::move(operation);
  call.signing.s3 = true;
  call.request.method = std::move(method);
  call.request.query = std::move(query);
  S3Location location = s3_location(
      runtime_->endpoint(), path_style_.value_or(runtime_->endpoint().is_custom), bucket, key);
  call.request.scheme = std::move(location.scheme);
  call.request.host = std::move(location.host);
  call.request.path = std::move(location.path);
  return call;
}

Result<ObjectInfo> S3Client::get_object(const std::string& bucket, const std::string& key,
                                        const ChunkSink& on_chunk, GetObjectOptions options) {
  if (runtime_->http().on_io_thread())
    return tl::unexpected(runtime_->io_thread_error("GetObject"));
  const RetryPolicy policy = options.policy.value_or(runtime_->config().retry);
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t offset = options.range_start.value_or(0);
  std::string etag = options.if_match;
  std::optional<ObjectInfo> info;
  int attempts_without_progress = 0;
  int total_attempts = 0;
  for (;;) {
    ++attempts_without_progress;
    ++total_attempts;
    std::string query =
        options.version_id.empty() ? "" : "versionId=" + uri_encode(options.version_id);
    ServiceCall call = object_call("GetObject", "GET", bucket, key, std::move(query));
    HttpRequest& request = call.request;
    if (offset > 0 || options.range_end) {
      request.headers.push_back(
          {"Range",
           fmt::format("bytes={}-{}", offset,
                       options.range_end ? std::to_string(*options.range_end) : std::string())});
    }
    if (!etag.empty()) request.headers.push_back({"If-Match", etag});
    if (auto signed_ok = runtime_->sign(request, call.signing); !signed_ok) {
      return tl::unexpected(signed_ok.error());
    }
    std::size_t delivered = 0;
    HttpResponse head;
    auto response = runtime_->http().stream(std::move(request), on_chunk, {}, &delivered, &head);
    offset += delivered;
    const bool body_started = head.status >= 200 && head.status < 300;
    if (body_started) {
      if (!info) info = object_info(head);
      if (etag.empty()) etag = header_or_empty(head, "ETag");  // pin the resumes to this object
    }
    AwsError error;
    if (response && body_started) {
      return *info;
    } else if (response) {
      if (response->status == 416 && info && offset >= info->size) return *info;  // nothing left
      error = parse_xml_error(*response);
    } else {
      error = response.error();
      if (error.code == "Aborted")
        return tl::unexpected(runtime_->annotate(error, "GetObject", total_attempts));
    }
    error = runtime_->annotate(std::move(error), "GetObject", total_attempts);
    if (delivered > 0) attempts_without_progress = 1;  // progress renews the budget
    std::optional<std::chrono::milliseconds> remaining;
    if (policy.deadline) {
      remaining = *policy.deadline - std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - started);
    }
    const auto decision =
        runtime_->retry_strategy().decide(error, attempts_without_progress, policy, remaining);
    if (!decision.retry) return tl::unexpected(std::move(error));
    std::this_thread::sleep_for(decision.delay);  // the caller's thread, never the I/O thread
  }
}

Result<ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key,
                                         const std::string& version_id) {
  ServiceCall call = object_call("HeadObject", "HEAD", bucket, key,
                                 version_id.empty() ? "" : "versionId=" + uri_encode(version_id));
  auto response = runtime_->call_blocking(std::move(call));
  if (!response) return tl::unexpected(std::move(response.error()));
  return object_info(*response);
}

void S3Client::put_object_async(std::string bucket, std::string key, std::string body,
                                std::function<void(Result<PutObjectResult>)> done,
                                std::string content_type) {
  ServiceCall call = object_call("PutObject", "PUT", bucket, key);
  call.request.headers.push_back({"Content-Type", std::move(content_type)});
  call.request.body = std::move(body);
  runtime_->call(std::move(call), [done = std::move(done)](Result<HttpResponse> response) {
    if (!response) return done(tl::unexpected(std::move(response.error())));
    done(PutObjectResult{header_or_empty(*response, "ETag"),
                         header_or_empty(*response, "x-amz-version-id")});
  });
}

Result<PutObjectResult> S3Client::put_object(std::string bucket, std::string key, std::string body,
                                             std::string content_type) {
  return runtime_->wait_for<PutObjectResult>("PutObject", [&](auto done) {
    put_object_async(std::move(bucket), std::move(key), std::move(body), std::move(done),
                     std::move(content_type));
  });
}

Result<void> S3Client::delete_object(const std::string& bucket, const std::string& key) {
  return without_body(runtime_->call_blocking(object_call("DeleteObject", "DELETE", bucket, key)));
}

Result<ListObjectsPage> S3Client::list_objects(const std::string& bucket, const std::string& prefix,
                                               const std::string& continuation_token,
                                               int max_keys) {
  std::string query = fmt::format("list-type=2&max-keys={}", max_keys);
  if (!prefix.empty()) query += "&prefix=" + uri_encode(prefix);
  if (!continuation_token.empty()) query += "&continuation-token=" + uri_encode(continuation_token);
  auto response =
      runtime_->call_blocking(object_call("ListObjectsV2", "GET", bucket, "", std::move(query)));
  if (!response) return tl::unexpected(std::move(response.error()));
  pugi::xml_document document;
  if (!document.load_buffer(response->body.data(), response->body.size())) {
    return tl::unexpected(runtime_->invalid_response(*response, "ListObjectsV2",
                                                     "ListObjectsV2 answered with malformed XML"));
  }
  const pugi::xml_node root = document.child("ListBucketResult");
  ListObjectsPage page;
  for (const pugi::xml_node node : root.children("Contents")) {
    page.objects.push_back({node.child_value("Key"), to_u64(node.child_value("Size")),
                            node.child_value("ETag"), node.child_value("LastModified")});
  }
  if (std::string_view(root.child_value("IsTruncated")) == "true") {
    page.next_continuation_token = root.child_value("NextContinuationToken");
  }
  return page;
}

Result<std::vector<ObjectSummary>> S3Client::list_all_objects(const std::string& bucket,
                                                              const std::string& prefix) {
  std::vector<ObjectSummary> all;
  std::string token;
  do {
    auto page = list_objects(bucket, prefix, token);
    if (!page) return tl::unexpected(std::move(page.error()));
    std::move(page->objects.begin(), page->objects.end(), std::back_inserter(all));
    token = std::move(page->next_continuation_token);
  } while (!token.empty());
  return all;
}

Result<Creation> S3Client::create_bucket(const std::string& bucket) {
  ServiceCall call = object_call("CreateBucket", "PUT", bucket, "");
  const std::string& region = runtime_->config().region;
  if (region != "us-east-1") {
    pugi::xml_document document;
    auto root = document.append_child("CreateBucketConfiguration");
    root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
    root.append_child("LocationConstraint").text() = region.c_str();
    call.request.body = xml_text(document);
    call.request.headers.push_back({"Content-Type", "application/xml"});
  }
  auto response = runtime_->call_blocking(std::move(call));
  if (response) return Creation::created;
  if (response.error().code == "BucketAlreadyOwnedByYou") return Creation::already_existed;
  return tl::unexpected(std::move(response.error()));
}

Result<void> S3Client::put_bucket_notification(const std::string& bucket,
                                               const std::vector<QueueNotification>& queues) {
  pugi::xml_document document;
  auto root = document.append_child("NotificationConfiguration");
  root.append_attribute("xmlns") = kS3Namespace;
  for (const QueueNotification& queue : queues) {
    fill_queue_configuration(root.append_child("QueueConfiguration"), queue);
  }
  return put_notification_document(bucket, xml_text(document));
}

Result<void> S3Client::put_notification_document(const std::string& bucket, std::string document) {
  ServiceCall call =
      object_call("PutBucketNotificationConfiguration", "PUT", bucket, "", "notification=");
  call.request.body = std::move(document);
  call.request.headers.push_back({"Content-Type", "application/xml"});
  return without_body(runtime_->call_blocking(std::move(call)));
}

Result<NotificationChange> S3Client::merge_bucket_notification(const std::string& bucket,
                                                               const QueueNotification& queue) {
  auto current = runtime_->call_blocking(
      object_call("GetBucketNotificationConfiguration", "GET", bucket, "", "notification="));
  if (!current) return tl::unexpected(std::move(current.error()));
  auto merged = merge_queue_notification(current->body, queue);
  if (!merged) {
    return tl::unexpected(
        runtime_->invalid_response(*current, "GetBucketNotificationConfiguration",
                                   "GetBucketNotificationConfiguration: " + merged.error()));
  }
  if (merged->change == NotificationChange::unchanged) return NotificationChange::unchanged;
  auto put = put_notification_document(bucket, std::move(merged->document));
  if (!put) return tl::unexpected(std::move(put.error()));
  return merged->change;
}

tl::expected<MergedNotification, std::string> merge_queue_notification(
    std::string_view existing, const QueueNotification& queue) {
  if (queue.id.empty()) {
    return tl::make_unexpected(std::string("a merged queue configuration needs an Id"));
  }
  pugi::xml_document current;
  const auto current_root = notification_configuration(current, existing);
  if (!current_root) return tl::make_unexpected(current_root.error());
  MergedNotification merged;
  pugi::xml_document document;
  auto root = document.append_child("NotificationConfiguration");
  root.append_attribute("xmlns") = kS3Namespace;
  const pugi::xml_node previous = current_root->find_child([&](const pugi::xml_node node) {
    return std::string_view(node.name()) == "QueueConfiguration" &&
           std::string_view(node.child_value("Id")) == queue.id;
  });
  if (previous) {
    merged.change = parse_queue_configuration(previous) == queue ? NotificationChange::unchanged
                                                                 : NotificationChange::replaced;
  }
  // In the place of the previous one; a new one where the topics and queues
  // end (S3's schema orders topics, queues, functions, EventBridge).
  bool placed = false;
  const auto place = [&] {
    fill_queue_configuration(root.append_child("QueueConfiguration"), queue);
    placed = true;
  };
  for (const pugi::xml_node child : current_root->children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (child == previous) {
      place();
      continue;
    }
    if (!previous && !placed && name != "TopicConfiguration" && name != "QueueConfiguration") {
      place();
    }
    root.append_copy(child);
  }
  if (!placed) place();
  merged.document = xml_text(document);
  return merged;
}

}  // namespace salesflow::aws
