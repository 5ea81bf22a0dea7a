#pragma once
// HTTP transport over the libcurl multi interface: one I/O thread per client
// drives every transfer, so thousands of requests can be in flight over a
// bounded pool of keep-alive connections without a thread per request.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/error.hpp"
#include "aws/http_request.hpp"

namespace salesflow::aws {

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;  // of the final response (interim 100/redirect headers dropped)
  std::string body;             // empty for streamed 2xx bodies

  // Case-insensitive; the first header of that name.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{30000};  // whole exchange, unless a request overrides
  long max_connections_per_host = 64;
  long max_total_connections = 256;
  // Streams: a transfer that moves fewer than low_speed_bytes per low_speed_time
  // is abandoned (a stalled server must not hang a download of unknown length).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  // Bytes a streamed body may buffer between the I/O thread and the consumer
  // before the transfer is paused.
  std::size_t stream_buffer_bytes = std::size_t{4} << 20;
  std::string ca_bundle{};  // empty: the system CA store. TLS peer and host verification stay on.
  // The User-Agent header of every request (what CloudTrail records as the
  // caller's userAgent); empty: none is sent.
  std::string user_agent{};
};

// Per-request overrides.
struct RequestOptions {
  std::optional<std::chrono::milliseconds> timeout;  // replaces HttpOptions::request_timeout
};

// Receives a streamed body in order; return false to abort the transfer.
using ChunkSink = std::function<bool(std::string_view chunk)>;

class HttpClient {
 public:
  // Runs on the I/O thread; must not block (no sleeps, no send()).
  using Completion = std::function<void(Result<HttpResponse>)>;

  explicit HttpClient(HttpOptions options = {});
  // shutdown(). May run on the I/O thread itself (a completion dropping the
  // last reference): the thread then winds down on its own instead of being joined.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const HttpOptions& options() const;

  // Thread-safe; also callable from completions.
  void submit(HttpRequest request, Completion done, RequestOptions options = {});

  // Blocks until the response arrives; must not be called on the I/O thread.
  [[nodiscard]] Result<HttpResponse> send(HttpRequest request, RequestOptions options = {});

  // Blocking streamed transfer. For a 2xx response the body goes to `sink` on
  // the caller's thread in order (the sink may block: the transfer pauses once
  // HttpOptions::stream_buffer_bytes are waiting); the returned response has an
  // empty body. Any other status gets its body collected into the response
  // instead, for error parsing. On a transport failure mid-body the error is
  // returned after every byte received before it has been delivered.
  // `bytes_delivered`, when given, counts what reached the sink; `head`, when
  // given, receives the status and headers even when the transfer failed
  // mid-body (a resume needs the ETag of what it was reading).
  [[nodiscard]] Result<HttpResponse> stream(HttpRequest request, const ChunkSink& sink,
                                            RequestOptions options = {},
                                            std::size_t* bytes_delivered = nullptr,
                                            HttpResponse* head = nullptr);

  // Runs `task` on the I/O thread after `delay` (retry backoff without a
  // sleeping thread). Tasks still pending at destruction run then, in order.
  void schedule(std::chrono::milliseconds delay, std::function<void()> task);

  bool on_io_thread() const;

  // No exchange started from now on runs past `cutoff`: its timeout is cut to
  // the time left, and once the cutoff has passed a request fails at once
  // with the final error "CutoffReached" (no retry can help it). For a caller
  // with a hard deadline of its own (a Lambda invocation): a stop then waits
  // for in-flight calls at most until the cutoff, never the whole request
  // timeout. nullopt lifts it. Thread-safe; requests already started keep
  // the timeout they started with.
  void set_cutoff(std::optional<std::chrono::steady_clock::time_point> cutoff);

  // Completes every pending request with a "ClientShutdown" error, runs the
  // pending scheduled tasks, and joins the I/O thread: once it returns, no
  // completion of this client runs any more, so whatever completions call
  // (observers, sinks) may be destroyed. Later submissions fail at once on the
  // caller's thread; later tasks run at once. Idempotent; on the I/O thread it
  // cannot join and only asks the thread to wind down.
  void shutdown();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the I/O thread, which may outlive *this
};

// Transport errors (no HTTP response) as AwsError: code "Timeout",
// "ConnectFailed", "ConnectionReset", "DnsFailure", "TlsError", "Aborted",
// "ClientShutdown", "TransportError".
AwsError transport_error(int curl_code, std::string_view detail);

}  // namespace salesflow::aws
