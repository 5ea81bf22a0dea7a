#include "aws/http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>

#include "base/fatal.hpp"
#include "base/text.hpp"

namespace salesflow::aws {

namespace {

bool is_success(int status) {
  return status >= 200 && status < 300;
}

// Hand-off between the I/O thread (producer) and the thread blocked in
// HttpClient::stream (consumer). Bounded by `limit` bytes: past it the write
// callback pauses the transfer until the consumer has drained half of it.
struct StreamChannel {
  explicit StreamChannel(std::size_t limit_bytes) : limit(limit_bytes) {}
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> chunks;
  std::size_t buffered = 0;
  const std::size_t limit;
  bool paused = false;
  bool resume = false;  // consumer asks the I/O thread to unpause
  bool cancel = false;  // consumer gave up
  bool done = false;
  std::optional<Result<HttpResponse>> result;
  HttpResponse head;  // status and headers, also of a failed transfer
};

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpRequest request;
  HttpResponse response;
  HttpClient::Completion done;
  std::shared_ptr<StreamChannel> stream;
  bool paused = false;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
  }
};

struct Submission {
  HttpRequest request;
  HttpClient::Completion done;
  RequestOptions options;
  std::shared_ptr<StreamChannel> stream;
};

struct Timer {
  std::chrono::steady_clock::time_point due;
  std::uint64_t sequence;  // FIFO among equal deadlines
  std::function<void()> task;
  bool operator>(const Timer& other) const {
    return due != other.due ? due > other.due : sequence > other.sequence;
  }
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line = base::trim(std::string_view(data, length));
  if (line.starts_with("HTTP/")) {
    // A new status line starts a new response (after 100 Continue or a redirect).
    transfer->response.headers.clear();
    const auto space = line.find(' ');
    int status = 0;
    if (space != std::string_view::npos && line.size() >= space + 4) {
      std::from_chars(line.data() + space + 1, line.data() + space + 4, status);
    }
    transfer->response.status = status;
    return length;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response.headers.push_back({std::string(base::trim(line.substr(0, colon))),
                                          std::string(base::trim(line.substr(colon + 1)))});
  }
  return length;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (!transfer->stream || !is_success(transfer->response.status)) {
    transfer->response.body.append(data, length);
    return length;
  }
  StreamChannel& channel = *transfer->stream;
  const std::lock_guard lock(channel.mutex);
  if (channel.cancel) return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  if (channel.buffered >= channel.limit) {
    channel.paused = true;
    channel.resume = false;
    transfer->paused = true;
    return CURL_WRITEFUNC_PAUSE;  // curl keeps the data and offers it again on unpause
  }
  channel.chunks.emplace_back(data, length);
  channel.buffered += length;
  channel.ready.notify_one();
  return length;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (base::iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

AwsError transport_error(int curl_code, std::string_view detail) {
  AwsError error;
  error.service = "http";
  error.message = fmt::format(
      "{} ({})", detail.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code)) : detail,
      curl_easy_strerror(static_cast<CURLcode>(curl_code)));
  switch (curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
      error.code = "Timeout";
      error.retryable = true;
      break;
    case CURLE_COULDNT_CONNECT:
      error.code = "ConnectFailed";
      error.retryable = true;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      error.code = "DnsFailure";
      error.retryable = true;
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      error.code = "ConnectionReset";
      error.retryable = true;
      break;
    case CURLE_SSL_CONNECT_ERROR:
      error.code = "TlsError";
      error.retryable = true;  // a handshake cut short, not a verification failure
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      error.code = "TlsError";
      break;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      error.code = "Aborted";
      break;
    default:
      error.code = "TransportError";
      break;
  }
  return error;
}

namespace {
AwsError http_error(std::string code, std::string message) {
  AwsError error;
  error.service = "http";
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

AwsError shutdown_error() {
  return http_error("ClientShutdown", "the HTTP client was destroyed before the request completed");
}
}  // namespace

class HttpClient::Impl {
 public:
  explicit Impl(HttpOptions options) : options_(std::move(options)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);  // reference-counted and thread-safe since 7.84
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_connections_per_host);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_total_connections);
  }

  static void start_thread(const std::shared_ptr<Impl>& impl) {
    impl->thread_ = std::thread(
        [self = impl] { base::run_or_die("HTTP I/O thread", [&self] { self->run(); }); });
  }

  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    // Whoever takes the thread handle first joins (or detaches) it; the others
    // wait until the thread has finished, so that stop() returning always means
    // no completion runs any more (except on the I/O thread itself).
    std::unique_lock lock(thread_mutex_);
    if (!thread_.joinable()) {
      if (!on_io_thread()) thread_finished_.wait(lock, [this] { return io_finished_; });
      return;
    }
    if (on_io_thread()) {
      thread_.detach();  // finishes the current loop pass, then shuts down
      return;
    }
    std::thread thread = std::move(thread_);
    lock.unlock();
    thread.join();
  }

  ~Impl() {
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    curl_global_cleanup();
  }

  const HttpOptions& options() const { return options_; }

  void set_cutoff(std::optional<std::chrono::steady_clock::time_point> cutoff) {
    cutoff_.store(cutoff ? cutoff->time_since_epoch().count() : kNoCutoff);
  }

  // Whole milliseconds left before the cutoff (at most 0 once it passed), or
  // nullopt when there is none. libcurl reads a timeout of 0 as "none", so a
  // positive remainder below 1 ms counts as passed.
  std::optional<std::chrono::milliseconds> time_to_cutoff() const {
    const auto cutoff = cutoff_.load();
    if (cutoff == kNoCutoff) return std::nullopt;
    const auto left =
        std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(cutoff)) -
        std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::milliseconds>(left);
  }

  void submit(Submission submission) {
    {
      const std::lock_guard lock(mutex_);
      if (!finished_) {
        incoming_.push_back(std::move(submission));
        curl_multi_wakeup(multi_);
        return;
      }
    }
    fail(submission, shutdown_error());  // the I/O thread is gone: nobody else would
  }

  void schedule(std::chrono::milliseconds delay, std::function<void()> task) {
    {
      const std::lock_guard lock(mutex_);
      if (!finished_) {
        timers_.push(
            Timer{std::chrono::steady_clock::now() + delay, next_timer_++, std::move(task)});
        curl_multi_wakeup(multi_);
        return;
      }
    }
    task();  // as shutdown() runs pending tasks: a retry loop reaches its completion
  }

  void wakeup() { curl_multi_wakeup(multi_); }

  bool on_io_thread() const { return std::this_thread::get_id() == io_thread_id_.load(); }

 private:
  void run() {
    io_thread_id_ = std::this_thread::get_id();
    std::vector<Submission> incoming;
    std::vector<std::function<void()>> due;
    for (;;) {
      bool stopping = false;
      std::chrono::steady_clock::time_point next_due = std::chrono::steady_clock::time_point::max();
      {
        const std::lock_guard lock(mutex_);
        stopping = stopping_;
        incoming.swap(incoming_);
        const auto now = std::chrono::steady_clock::now();
        while (!timers_.empty() && timers_.top().due <= now) {
          due.push_back(std::move(const_cast<Timer&>(timers_.top()).task));
          timers_.pop();
        }
        if (!timers_.empty()) next_due = timers_.top().due;
      }
      if (stopping) {
        for (Submission& s : incoming) incoming_for_shutdown_.push_back(std::move(s));
        for (auto& task : due) task();
        break;
      }
      for (Submission& s : incoming) start(std::move(s));
      incoming.clear();
      for (auto& task : due) task();
      due.clear();
      service_paused();

      int running = 0;
      curl_multi_perform(multi_, &running);
      drain_finished();

      int wait_ms = 1000;
      if (next_due != std::chrono::steady_clock::time_point::max()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                               next_due - std::chrono::steady_clock::now())
                               .count() +
                           1;
        wait_ms = static_cast<int>(std::clamp<long long>(until, 0, wait_ms));
      }
      // curl_multi_poll also honours libcurl's own (shorter) internal timeouts.
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
    shutdown();
    io_thread_id_ = std::thread::id{};  // a later thread may be given the same id
    const std::lock_guard lock(thread_mutex_);
    io_finished_ = true;
    thread_finished_.notify_all();
  }

  // Fails everything still pending; tasks scheduled for later run now so that
  // retry loops reach their completion (their resubmissions fail at once).
  void shutdown() {
    for (auto& [easy, transfer] : active_) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      complete(*transfer, tl::unexpected(shutdown_error()));
    }
    active_.clear();
    for (;;) {
      std::vector<Submission> pending;
      std::vector<std::function<void()>> tasks;
      {
        const std::lock_guard lock(mutex_);
        pending.swap(incoming_);
        while (!timers_.empty()) {
          tasks.push_back(std::move(const_cast<Timer&>(timers_.top()).task));
          timers_.pop();
        }
        for (Submission& s : incoming_for_shutdown_) pending.push_back(std::move(s));
        incoming_for_shutdown_.clear();
        // From here on submit() and schedule() complete on their callers' threads.
        if (pending.empty() && tasks.empty()) finished_ = true;
      }
      if (pending.empty() && tasks.empty()) break;
      for (Submission& s : pending) fail(s, shutdown_error());
      for (auto& task : tasks) task();
    }
  }

  static void fail(Submission& s, AwsError error) {
    if (s.stream) {
      const std::lock_guard lock(s.stream->mutex);
      s.stream->done = true;
      s.stream->result = tl::unexpected(error);
      s.stream->ready.notify_one();
    }
    if (s.done) s.done(tl::unexpected(std::move(error)));
  }

  CURL* take_easy() {
    if (!idle_.empty()) {
      CURL* easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
      return easy;
    }
    return curl_easy_init();
  }

  void release_easy(CURL* easy) {
    if (idle_.size() < 256) {
      idle_.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  void start(Submission s) {
    const auto left_before_cutoff = time_to_cutoff();
    if (left_before_cutoff && left_before_cutoff->count() <= 0) {
      fail(s,
           http_error("CutoffReached", "the client's cutoff (the caller's deadline) has passed"));
      return;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(s.request);
    transfer->done = std::move(s.done);
    transfer->stream = std::move(s.stream);
    CURL* easy = take_easy();
    if (easy == nullptr) {
      Submission failed{
          std::move(transfer->request), std::move(transfer->done), {}, std::move(transfer->stream)};
      fail(failed, transport_error(CURLE_OUT_OF_MEMORY, "curl_easy_init failed"));
      return;
    }
    transfer->easy = easy;
    const HttpRequest& request = transfer->request;
    const std::string url = request.url();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!options_.user_agent.empty()) {
      curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_bundle.empty())
      curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_bundle.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    std::optional<std::chrono::milliseconds> timeout = s.options.timeout;
    if (!timeout && !transfer->stream) timeout = options_.request_timeout;
    if (left_before_cutoff) {
      timeout = timeout ? std::min(*timeout, *left_before_cutoff) : *left_before_cutoff;
    }
    if (timeout) {
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout->count()));
    }
    if (transfer->stream) {
      // A stream's length is unknown up front: guard against stalls instead.
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(options_.low_speed_time.count()));
    }
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());

    bool has_content_type = false;
    for (const Header& h : request.headers) {
      if (base::iequals(h.name, "content-type")) has_content_type = true;
      // "Name;" is curl's spelling of a header with an empty value.
      const std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
      transfer->header_list = curl_slist_append(transfer->header_list, line.c_str());
    }
    // No 100-continue round trip before sending a body.
    transfer->header_list = curl_slist_append(transfer->header_list, "Expect:");

    if (request.method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        // POSTFIELDS would add a form Content-Type; an empty one suppresses it.
        if (!has_content_type) {
          transfer->header_list = curl_slist_append(transfer->header_list, "Content-Type:");
        }
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
      }
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list);

    const CURLMcode added = curl_multi_add_handle(multi_, easy);
    if (added != CURLM_OK) {
      release_easy(easy);
      Submission failed{
          std::move(transfer->request), std::move(transfer->done), {}, std::move(transfer->stream)};
      fail(failed, transport_error(CURLE_FAILED_INIT, curl_multi_strerror(added)));
      return;
    }
    active_.emplace(easy, std::move(transfer));
  }

  void service_paused() {
    for (auto& [easy, transfer] : active_) {
      if (!transfer->paused) continue;
      bool resume = false;
      bool cancel = false;
      {
        const std::lock_guard lock(transfer->stream->mutex);
        resume = transfer->stream->resume;
        cancel = transfer->stream->cancel;
        if (resume || cancel) {
          transfer->stream->paused = false;
          transfer->stream->resume = false;
        }
      }
      if (cancel) {
        cancelled_.push_back(easy);
      } else if (resume) {
        transfer->paused = false;
        // May call on_body at once with the data held back, which may pause again.
        curl_easy_pause(easy, CURLPAUSE_CONT);
      }
    }
    for (CURL* easy : cancelled_) finish(easy, CURLE_ABORTED_BY_CALLBACK);
    cancelled_.clear();
  }

  void drain_finished() {
    int remaining = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &remaining)) {
      if (message->msg != CURLMSG_DONE) continue;
      finish(message->easy_handle, message->data.result);
    }
  }

  void finish(CURL* easy, CURLcode code) {
    const auto found = active_.find(easy);
    if (found == active_.end()) return;
    std::unique_ptr<Transfer> transfer = std::move(found->second);
    active_.erase(found);
    curl_multi_remove_handle(multi_, easy);
    release_easy(easy);
    if (code == CURLE_OK) {
      complete(*transfer, std::move(transfer->response));
    } else {
      AwsError error = transport_error(code, transfer->error_buffer);
      error.http_status = transfer->response.status;
      complete(*transfer, tl::unexpected(std::move(error)));
    }
  }

  static void complete(Transfer& transfer, Result<HttpResponse> result) {
    if (transfer.stream) {
      const std::lock_guard lock(transfer.stream->mutex);
      transfer.stream->done = true;
      transfer.stream->head.status = transfer.response.status;
      transfer.stream->head.headers = result ? result->headers : transfer.response.headers;
      transfer.stream->result = result;
      transfer.stream->ready.notify_one();
    }
    if (transfer.done) transfer.done(std::move(result));
  }

  static constexpr std::chrono::steady_clock::rep kNoCutoff =
      std::numeric_limits<std::chrono::steady_clock::rep>::max();

  const HttpOptions options_;
  std::atomic<std::chrono::steady_clock::rep> cutoff_{kNoCutoff};
  CURLM* multi_ = nullptr;
  std::mutex thread_mutex_;  // guards thread_ and io_finished_
  std::condition_variable thread_finished_;
  std::thread thread_;
  bool io_finished_ = false;
  std::atomic<std::thread::id> io_thread_id_{};

  std::mutex mutex_;  // guards the members down to next_timer_
  bool stopping_ = false;
  bool finished_ = false;  // the I/O thread has completed everything and exits
  std::vector<Submission> incoming_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::uint64_t next_timer_ = 0;

  // I/O thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::vector<CURL*> idle_;
  std::vector<CURL*> cancelled_;
  std::vector<Submission> incoming_for_shutdown_;
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
  Impl::start_thread(impl_);
}
HttpClient::~HttpClient() {
  impl_->stop();
}

void HttpClient::shutdown() {
  impl_->stop();
}

const HttpOptions& HttpClient::options() const {
  return impl_->options();
}

void HttpClient::set_cutoff(std::optional<std::chrono::steady_clock::time_point> cutoff) {
  impl_->set_cutoff(cutoff);
}

void HttpClient::submit(HttpRequest request, Completion done, RequestOptions options) {
  impl_->submit(Submission{std::move(request), std::move(done), options, nullptr});
}

namespace {
AwsError misuse_error() {
  return http_error("BlockingCallOnIoThread",
                    "a blocking HTTP call was made on the client's own I/O thread");
}
}  // namespace

Result<HttpResponse> HttpClient::send(HttpRequest request, RequestOptions options) {
  if (impl_->on_io_thread()) return tl::unexpected(misuse_error());
  std::promise<Result<HttpResponse>> promise;
  auto future = promise.get_future();
  submit(
      std::move(request),
      [&promise](Result<HttpResponse> result) { promise.set_value(std::move(result)); }, options);
  return future.get();
}

Result<HttpResponse> HttpClient::stream(HttpRequest request, const ChunkSink& sink,
                                        RequestOptions options, std::size_t* bytes_delivered,
                                        HttpResponse* head) {
  if (impl_->on_io_thread()) return tl::unexpected(misuse_error());
  auto channel = std::make_shared<StreamChannel>(
      std::max<std::size_t>(impl_->options().stream_buffer_bytes, 1));
  impl_->submit(Submission{std::move(request), nullptr, options, channel});
  bool aborted = false;
  std::unique_lock lock(channel->mutex);
  for (;;) {
    channel->ready.wait(lock, [&] { return !channel->chunks.empty() || channel->done; });
    if (channel->chunks.empty()) break;  // done and drained
    std::string chunk = std::move(channel->chunks.front());
    channel->chunks.pop_front();
    lock.unlock();
    const bool keep_going = aborted || sink(chunk);
    if (!aborted && bytes_delivered != nullptr) *bytes_delivered += chunk.size();
    lock.lock();
    channel->buffered -= chunk.size();
    if (!keep_going && !aborted) {
      aborted = true;
      channel->cancel = true;
      channel->chunks.clear();
      channel->buffered = 0;
      impl_->wakeup();
    } else if (channel->paused && !channel->resume && channel->buffered <= channel->limit / 2) {
      channel->resume = true;
      impl_->wakeup();
    }
  }
  Result<HttpResponse> result = std::move(*channel->result);
  if (head != nullptr) *head = std::move(channel->head);
  if (aborted) {
    AwsError error = transport_error(CURLE_ABORTED_BY_CALLBACK, "the consumer stopped the stream");
    return tl::unexpected(std::move(error));
  }
  return result;
}

void HttpClient::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  impl_->schedule(delay, std::move(task));
}

bool HttpClient::on_io_thread() const {
  return impl_->on_io_thread();
}

}  // namespace salesflow::aws
