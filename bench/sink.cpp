// bench_sink: an in-memory S3 + SQS + DynamoDB for benchmarks only. It speaks
// the wire protocols the way salesflow's own clients use them (src/aws/s3.cpp,
// sqs.cpp, dynamodb.cpp) so the worker can be measured without a slow emulator
// in the way. Answers are shaped like AWS's; signatures are not checked.
//
//   bench_sink --port P --objects N --records M [--record-bytes B] [--reject-every K]
//              [--latency-ms L] [--wcu W] [--burst-seconds S] [--threads T]
//
// GET /stats answers the counters as JSON. See bench/README.md ("The worker
// against the benchmark sink").
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kBucket = "salesflow-incoming";
constexpr std::string_view kNotificationQueue = "salesflow-notifications";
constexpr std::string_view kLedgerTable = "salesflow-ledger";
constexpr std::string_view kAccount = "000000000000";

struct Options {
  int port = 26070;
  int objects = 20;
  int records = 100000;
  int record_bytes = 1024;
  int reject_every = 0;  // 0: every record valid
  int latency_ms = 0;
  int wcu = 0;  // 0: unlimited
  double burst_seconds = 1.0;
  int threads = 256;
};

// ---------------------------------------------------------------- helpers

std::string md5_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i)
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string string_of(simdjson::dom::element element, std::string_view key) {
  std::string_view value;
  if (element[key].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

std::int64_t int_of(simdjson::dom::element element, std::string_view key, std::int64_t fallback) {
  std::int64_t value = 0;
  if (element[key].get(value) != simdjson::SUCCESS) return fallback;
  return value;
}

double cpu_seconds_self() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// An AWS JSON protocol error (both SQS's JSON protocol and DynamoDB use this shape).
void json_error(httplib::Response& response, int status, std::string_view type,
                std::string_view message) {
  response.status = status;
  response.set_content(
      fmt::format(R"({{"__type":{},"message":{}}})", json_string(type), json_string(message)),
      "application/x-amz-json-1.0");
}

// ---------------------------------------------------------------- counters

class Counters {
 public:
  void add(const std::string& name, std::uint64_t by = 1) {
    const std::lock_guard lock(mutex_);
    values_[name] += by;
  }
  std::uint64_t get(const std::string& name) const {
    const std::lock_guard lock(mutex_);
    const auto found = values_.find(name);
    return found == values_.end() ? 0 : found->second;
  }
  std::string json() const {
    const std::lock_guard lock(mutex_);
    std::string out = "{";
    for (const auto& [name, value] : values_) {
      if (out.size() > 1) out += ',';
      append_json_string(out, name);
      fmt::format_to(std::back_inserter(out), ":{}", value);
    }
    return out + "}";
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> values_;
};

// ---------------------------------------------------------------- S3

struct StoredObject {
  std::string key;
  std::string body;
  std::string etag;  // quoted, as S3 sends it
  std::uint64_t records = 0;
  std::uint64_t rejects = 0;
};

// Records shaped like scripts/bench-object.py's, padded to `record_bytes`; a
// rejected record lacks the required "contact-info" object (tests/data/rules/defaults.toml).
StoredObject make_object(int object_index, const Options& options) {
  StoredObject object;
  object.key = fmt::format("bench/object-{:05}.jsonl", object_index);
  object.body.reserve(static_cast<std::size_t>(options.records) * (options.record_bytes + 1));
  std::string line;
  for (int n = 0; n < options.records; ++n) {
    const std::uint64_t serial = static_cast<std::uint64_t>(object_index) * options.records + n;
    const bool reject = options.reject_every > 0 && (n + 1) % options.reject_every == 0;
    line = fmt::format(R"({{"order-info":{{"OrderId":"B-{:010}","item-id":"IT-{:04}","qty":"{}",)"
                       R"("item-desc":")",
                       serial, serial % 9999, serial % 50);
    const std::string tail =
        reject ? std::string("\"}}")
               : fmt::format(
                     R"("}},"contact-info":{{"name":"Customer {}","email":"c{}@example.com"}}}})",
                     serial, serial);
    const std::size_t fixed = line.size() + tail.size();
    const std::size_t target = static_cast<std::size_t>(std::max(options.record_bytes, 0));
    line.append(target > fixed ? target - fixed : 0, 'x');
    line += tail;
    object.body += line;
    object.body += '\n';
    ++object.records;
    if (reject) ++object.rejects;
  }
  object.etag = "\"" + md5_hex(object.body) + "\"";
  return object;
}

// ---------------------------------------------------------------- SQS

struct QueueMessage {
  std::string id;
  std::string body;
  Clock::time_point visible_at{};
  std::uint64_t generation = 0;  // the receipt handle names one receive
  int receive_count = 0;
  std::int64_t sent_ms = 0;
  bool deleted = false;
};

class Queue {
 public:
  explicit Queue(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  void push(std::string body) {
    const std::lock_guard lock(mutex_);
    QueueMessage message;
    message.id = fmt::format("{:08x}-0000-4000-8000-{:012x}", messages_.size(), messages_.size());
    message.body = std::move(body);
    message.sent_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    messages_.push_back(std::move(message));
    arrived_.notify_all();
  }

  struct Received {
    const QueueMessage* message;
    std::string receipt_handle;
  };

  // A real long poll: waits until a message is visible (new or back from its
  // visibility timeout) or `wait` has passed. Returns JSON "Messages" entries.
  std::string receive(int max_messages, std::chrono::seconds visibility, std::chrono::seconds wait,
                      bool want_attributes) {
    std::unique_lock lock(mutex_);
    const auto give_up = Clock::now() + wait;
    std::vector<std::size_t> taken;
    for (;;) {
      const auto now = Clock::now();
      auto next_visible = Clock::time_point::max();
      for (std::size_t i = 0; i < messages_.size() && taken.size() < std::size_t(max_messages);
           ++i) {
        QueueMessage& message = messages_[i];
        if (message.deleted) continue;
        if (message.visible_at <= now) {
          message.visible_at = now + visibility;
          ++message.generation;
          ++message.receive_count;
          taken.push_back(i);
        } else {
          next_visible = std::min(next_visible, message.visible_at);
        }
      }
      if (!taken.empty() || now >= give_up) break;
      arrived_.wait_until(lock, std::min(give_up, next_visible));
    }
    std::string out = "[";
    for (const std::size_t i : taken) {
      const QueueMessage& message = messages_[i];
      if (out.size() > 1) out += ',';
      fmt::format_to(std::back_inserter(out),
                     R"({{"MessageId":"{}","ReceiptHandle":"{}-{}",)"
                     R"("MD5OfBody":"{}","Body":{})",
                     message.id, i, message.generation, md5_hex(message.body),
                     json_string(message.body));
      if (want_attributes) {
        fmt::format_to(std::back_inserter(out),
                       R"(,"Attributes":{{"ApproximateReceiveCount":"{}","SentTimestamp":"{}"}})",
                       message.receive_count, message.sent_ms);
      }
      out += '}';
    }
    return out + "]";
  }

  // Applies `change` to the message a receipt handle names; false when the
  // handle is not a current one (ReceiptHandleIsInvalid).
  template <class Change>
  bool with_handle(std::string_view handle, Change&& change) {
    const auto dash = handle.find('-');
    if (dash == std::string_view::npos) return false;
    std::size_t index = 0;
    std::uint64_t generation = 0;
    if (std::from_chars(handle.data(), handle.data() + dash, index).ec != std::errc{} ||
        std::from_chars(handle.data() + dash + 1, handle.data() + handle.size(), generation).ec !=
            std::errc{}) {
      return false;
    }
    const std::lock_guard lock(mutex_);
    if (index >= messages_.size() || messages_[index].generation != generation) return false;
    change(messages_[index]);
    arrived_.notify_all();
    return true;
  }

  bool remove(std::string_view handle) {
    bool was_live = false;
    const bool known = with_handle(handle, [&](QueueMessage& message) {
      was_live = !message.deleted;
      message.deleted = true;
    });
    if (known && was_live) ++deleted_;
    return known;
  }

  bool change_visibility(std::string_view handle, int seconds) {
    return with_handle(handle, [&](QueueMessage& message) {
      if (!message.deleted) message.visible_at = Clock::now() + std::chrono::seconds(seconds);
    });
  }

  std::size_t live() const {
    const std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(messages_.begin(), messages_.end(),
                                                  [](const auto& m) { return !m.deleted; }));
  }
  std::uint64_t deleted() const { return deleted_.load(); }

  // Wakes every long poll (shutdown).
  void wake() { arrived_.notify_all(); }

 private:
  std::string name_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<QueueMessage> messages_;
  std::atomic<std::uint64_t> deleted_{0};
};

// The DLQ keeps no bodies: only how many and how large.
struct DeadLetterCount {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
};

// MD5OfMessageAttributes as SQS computes it: per attribute, sorted by name,
// length-prefixed name, data type, transport byte 1 (string) and value.
std::string md5_of_attributes(simdjson::dom::object attributes) {
  std::map<std::string, std::pair<std::string, std::string>> sorted;
  for (const auto field : attributes) {
    sorted[std::string(field.key)] = {string_of(field.value, "DataType"),
                                      string_of(field.value, "StringValue")};
  }
  std::string buffer;
  const auto length_prefixed = [&](std::string_view text) {
    const auto n = static_cast<std::uint32_t>(text.size());
    for (int shift = 24; shift >= 0; shift -= 8) buffer += static_cast<char>((n >> shift) & 0xff);
    buffer += text;
  };
  for (const auto& [name, typed] : sorted) {
    length_prefixed(name);
    length_prefixed(typed.first);
    buffer += '\x01';
    length_prefixed(typed.second);
  }
  return md5_hex(buffer);
}

// ---------------------------------------------------------------- DynamoDB

// DynamoDB's item size: attribute names plus values (strings and binary by
// length, numbers ~1 byte per 2 digits + 1, 3 bytes of overhead per map/list).
std::size_t value_size(simdjson::dom::element value) {
  simdjson::dom::object typed;
  if (value.get(typed) != simdjson::SUCCESS) return 0;
  std::size_t size = 0;
  for (const auto field : typed) {
    const std::string_view type = field.key;
    std::string_view text;
    if (type == "S" || type == "B") {
      if (field.value.get(text) == simdjson::SUCCESS) size += text.size();
    } else if (type == "N") {
      if (field.value.get(text) == simdjson::SUCCESS) size += (text.size() + 1) / 2 + 1;
    } else if (type == "BOOL" || type == "NULL") {
      size += 1;
    } else if (type == "M") {
      size += 3;
      simdjson::dom::object map;
      if (field.value.get(map) == simdjson::SUCCESS) {
        for (const auto member : map) size += member.key.size() + value_size(member.value);
      }
    } else if (type == "L" || type == "SS" || type == "NS" || type == "BS") {
      size += 3;
      simdjson::dom::array list;
      if (field.value.get(list) == simdjson::SUCCESS) {
        for (const auto element : list) {
          if (element.get(text) == simdjson::SUCCESS)
            size += text.size();
          else
            size += value_size(element);
        }
      }
    }
  }
  return size;
}

std::size_t item_size(simdjson::dom::object item) {
  std::size_t size = 0;
  for (const auto field : item) size += field.key.size() + value_size(field.value);
  return size;
}

std::uint64_t write_units(std::size_t item_bytes) {
  return std::max<std::uint64_t>(1, (item_bytes + 1023) / 1024);
}

// W units per second; unused capacity accrues up to `burst_seconds` of it
// (DynamoDB keeps up to 300 s; a benchmark of one minute must not ride on it).
class TokenBucket {
 public:
  TokenBucket(double per_second, double burst_seconds)
      : per_second_(per_second), capacity_(per_second * burst_seconds), tokens_(capacity_) {}

  // Takes as many of `costs` (in order) as the bucket holds; returns how many.
  std::size_t take(const std::vector<std::uint64_t>& costs) {
    const std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    tokens_ = std::min(capacity_,
                       tokens_ + per_second_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    std::size_t taken = 0;
    for (const std::uint64_t cost : costs) {
      if (tokens_ < static_cast<double>(cost)) break;
      tokens_ -= static_cast<double>(cost);
      ++taken;
    }
    return taken;
  }

 private:
  std::mutex mutex_;
  double per_second_;
  double capacity_;
  double tokens_;
  Clock::time_point last_ = Clock::now();
};

// One scalar attribute value as the ledger uses them: {"S":...} or {"N":...};
// anything else is kept as its JSON text and compares only for equality.
struct AttributeValue {
  std::string type;
  std::string text;  // S or N value, or the minified JSON of other types
  std::string json() const {
    if (type == "S" || type == "N") return fmt::format(R"({{"{}":{}}})", type, json_string(text));
    return text;
  }
};

AttributeValue attribute_value(simdjson::dom::element element) {
  simdjson::dom::object typed;
  if (element.get(typed) == simdjson::SUCCESS) {
    for (const auto field : typed) {
      std::string_view text;
      if ((field.key == "S" || field.key == "N") && field.value.get(text) == simdjson::SUCCESS) {
        return {std::string(field.key), std::string(text)};
      }
    }
  }
  return {"raw", simdjson::minify(element)};
}

using Item = std::map<std::string, AttributeValue>;

std::string item_json(const Item& item) {
  std::string out = "{";
  for (const auto& [name, value] : item) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ':';
    out += value.json();
  }
  return out + "}";
}

struct ExpressionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The subset of DynamoDB's condition and update expressions salesflow sends
// (src/pipeline/ledger.cpp, dynamodb_sink.cpp): OR/AND/NOT, parentheses,
// comparisons, attribute_exists/attribute_not_exists; SET with + and -,
// if_not_exists; REMOVE. Anything else is a ValidationException, never a guess.
class Expression {
 public:
  // `names` and `values` may be absent (an error result): a placeholder then
  // resolves to nothing and is a ValidationException.
  using Member = simdjson::simdjson_result<simdjson::dom::element>;
  Expression(std::string_view text, Member names, Member values, const Item* item)
      : names_(names), values_(values), item_(item) {
    tokenize(text);
  }

  bool condition() {
    const bool result = or_expression();
    expect_end();
    return result;
  }

  // Applies SET/REMOVE clauses to `target` (which `item_` may alias: every
  // operand is read from the old item, as DynamoDB does).
  void update(Item& target) {
    Item updated = target;
    while (!at_end()) {
      const std::string clause = upper(next());
      if (clause == "SET") {
        do {
          const std::string path = name();
          expect("=");
          std::optional<AttributeValue> value = sum();
          if (!value) throw ExpressionError("SET of an attribute that does not exist");
          updated[path] = *value;
        } while (accept(","));
      } else if (clause == "REMOVE") {
        do updated.erase(name());
        while (accept(","));
      } else {
        throw ExpressionError("unsupported update clause " + clause);
      }
    }
    target = std::move(updated);
  }

 private:
  static std::string upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
  }

  void tokenize(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (std::string_view("(),=+-").find(c) != std::string_view::npos) {
        tokens_.emplace_back(1, c);
        ++i;
      } else if (c == '<' || c == '>') {
        const bool pair =
            i + 1 < text.size() && (text[i + 1] == '=' || (c == '<' && text[i + 1] == '>'));
        tokens_.emplace_back(text.substr(i, pair ? 2 : 1));
        i += pair ? 2 : 1;
      } else {
        std::size_t end = i;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' ||
                text[end] == '#' || text[end] == ':' || text[end] == '.')) {
          ++end;
        }
        if (end == i) throw ExpressionError(fmt::format("unexpected character '{}'", c));
        tokens_.emplace_back(text.substr(i, end - i));
        i = end;
      }
    }
  }

  bool at_end() const { return position_ >= tokens_.size(); }
  const std::string& peek() const {
    static const std::string kEnd;
    return at_end() ? kEnd : tokens_[position_];
  }
  std::string next() {
    if (at_end()) throw ExpressionError("expression ends too early");
    return tokens_[position_++];
  }
  bool accept(std::string_view token) {
    if (!at_end() && tokens_[position_] == token) {
      ++position_;
      return true;
    }
    return false;
  }
  void expect(std::string_view token) {
    if (!accept(token))
      throw ExpressionError(fmt::format("expected '{}' near '{}'", token, peek()));
  }
  void expect_end() const {
    if (!at_end()) throw ExpressionError("unexpected '" + peek() + "'");
  }

  // An attribute name: #placeholder or a plain name.
  std::string name() {
    const std::string token = next();
    if (token.starts_with('#')) {
      std::string_view resolved;
      if (names_[token].get(resolved) != simdjson::SUCCESS)
        throw ExpressionError("undefined attribute name " + token);
      return std::string(resolved);
    }
    if (token.starts_with(':')) throw ExpressionError("a value where a name belongs: " + token);
    return token;
  }

  std::optional<AttributeValue> current(const std::string& attribute) const {
    if (item_ == nullptr) return std::nullopt;
    const auto found = item_->find(attribute);
    if (found == item_->end()) return std::nullopt;
    return found->second;
  }

  std::optional<AttributeValue> operand() {
    if (peek().starts_with(':')) {
      const std::string token = next();
      simdjson::dom::element value;
      if (values_[token].get(value) != simdjson::SUCCESS)
        throw ExpressionError("undefined attribute value " + token);
      return attribute_value(value);
    }
    if (accept("if_not_exists")) {
      expect("(");
      const std::string attribute = name();
      expect(",");
      std::optional<AttributeValue> fallback = sum();
      expect(")");
      std::optional<AttributeValue> existing = current(attribute);
      return existing ? existing : fallback;
    }
    return current(name());
  }

  std::optional<AttributeValue> sum() {
    std::optional<AttributeValue> left = operand();
    while (peek() == "+" || peek() == "-") {
      const bool plus = next() == "+";
      const std::optional<AttributeValue> right = operand();
      if (!left || !right || left->type != "N" || right->type != "N")
        throw ExpressionError("arithmetic needs two numbers");
      std::int64_t a = 0;
      std::int64_t b = 0;
      std::from_chars(left->text.data(), left->text.data() + left->text.size(), a);
      std::from_chars(right->text.data(), right->text.data() + right->text.size(), b);
      left = AttributeValue{"N", std::to_string(plus ? a + b : a - b)};
    }
    return left;
  }

  bool or_expression() {
    bool result = and_expression();
    while (upper(peek()) == "OR") {
      ++position_;
      result = and_expression() || result;
    }
    return result;
  }
  bool and_expression() {
    bool result = not_expression();
    while (upper(peek()) == "AND") {
      ++position_;
      result = not_expression() && result;
    }
    return result;
  }
  bool not_expression() {
    if (upper(peek()) == "NOT") {
      ++position_;
      return !not_expression();
    }
    return primary();
  }
  bool primary() {
    if (accept("(")) {
      const bool result = or_expression();
      expect(")");
      return result;
    }
    if (peek() == "attribute_exists" || peek() == "attribute_not_exists") {
      const bool exists = next() == "attribute_exists";
      expect("(");
      const bool present = current(name()).has_value();
      expect(")");
      return exists == present;
    }
    const std::optional<AttributeValue> left = operand();
    const std::string op = next();
    const std::optional<AttributeValue> right = operand();
    if (!left || !right) return op == "<>" && left.has_value() != right.has_value();
    if (left->type != right->type) return op == "<>";
    int order = 0;
    if (left->type == "N") {
      const long double a = std::stold(left->text);
      const long double b = std::stold(right->text);
      order = a < b ? -1 : (a > b ? 1 : 0);
    } else {
      order = left->text.compare(right->text);
      order = order < 0 ? -1 : (order > 0 ? 1 : 0);
    }
    if (op == "=") return order == 0;
    if (op == "<>") return order != 0;
    if (op == "<") return order < 0;
    if (op == "<=") return order <= 0;
    if (op == ">") return order > 0;
    if (op == ">=") return order >= 0;
    throw ExpressionError("unsupported comparison " + op);
  }

  Member names_;
  Member values_;
  const Item* item_;
  std::vector<std::string> tokens_;
  std::size_t position_ = 0;
};

// ---------------------------------------------------------------- the sink

class Sink {
 public:
  explicit Sink(Options options) : options_(options), started_(Clock::now()) {
    notifications_ = std::make_unique<Queue>(std::string(kNotificationQueue));
    for (int i = 0; i < options_.objects; ++i) {
      objects_.push_back(make_object(i, options_));
      const StoredObject& object = objects_.back();
      records_ += object.records;
      rejects_ += object.rejects;
      notifications_->push(notification(object, i));
    }
  }

  void install(httplib::Server& server) {
    server.Get("/stats", [this](const httplib::Request&, httplib::Response& response) {
      response.set_content(stats(), "application/json");
    });
    server.Get(R"(/([^/]+)/(.+))",
               [this](const httplib::Request& request, httplib::Response& response) {
                 delay();
                 get_object(request, response);
               });
    server.Post("/", [this](const httplib::Request& request, httplib::Response& response) {
      delay();
      post(request, response);
    });
  }

  void wake_long_polls() { notifications_->wake(); }

 private:
  void delay() const {
    if (options_.latency_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  }

  std::string notification(const StoredObject& object, int index) const {
    return fmt::format(
        R"({{"Records":[{{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",)"
        R"("eventTime":"2026-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",)"
        R"("userIdentity":{{"principalId":"AWS:BENCH"}},"requestParameters":{{"sourceIPAddress":"127.0.0.1"}},)"
        R"("responseElements":{{"x-amz-request-id":"BENCH{:011}","x-amz-id-2":"bench"}},)"
        R"("s3":{{"s3SchemaVersion":"1.0","configurationId":"salesflow","bucket":{{"name":"{}",)"
        R"("ownerIdentity":{{"principalId":"BENCH"}},"arn":"arn:aws:s3:::{}"}},)"
        R"("object":{{"key":"{}","size":{},"eTag":"{}","sequencer":"{:018X}"}}}}}}]}})",
        index, kBucket, kBucket, object.key, object.body.size(),
        object.etag.substr(1, object.etag.size() - 2), index + 1);
  }

  void get_object(const httplib::Request& request, httplib::Response& response) {
    counters_.add(request.method == "HEAD" ? "s3.HeadObject" : "s3.GetObject");
    const std::string bucket = request.matches[1];
    const std::string key = request.matches[2];
    const auto found = std::find_if(objects_.begin(), objects_.end(),
                                    [&](const StoredObject& o) { return o.key == key; });
    if (bucket != kBucket || found == objects_.end()) {
      response.status = 404;
      response.set_content(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
          "<Message>The specified key does not exist.</Message></Error>",
          "application/xml");
      return;
    }
    const StoredObject& object = *found;
    const std::string if_match = request.get_header_value("If-Match");
    if (!if_match.empty() && if_match != object.etag) {
      response.status = 412;
      response.set_content(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code>"
          "<Message>At least one of the pre-conditions you specified did not "
          "hold</Message></Error>",
          "application/xml");
      return;
    }
    response.set_header("ETag", object.etag);
    response.set_header("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT");
    response.set_header("Accept-Ranges", "bytes");
    // httplib applies a Range header itself to a sized content provider:
    // 206, Content-Range and Content-Length of the part (and 416 outside it).
    response.set_content_provider(
        object.body.size(), "application/octet-stream",
        [&object](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          return sink.write(object.body.data() + offset, length);
        });
  }

  void post(const httplib::Request& request, httplib::Response& response) {
    const std::string target = request.get_header_value("X-Amz-Target");
    const auto dot = target.find('.');
    const std::string service = target.substr(0, dot);
    const std::string operation = dot == std::string::npos ? "" : target.substr(dot + 1);
    counters_.add((service == "AmazonSQS" ? "sqs." : "dynamodb.") + operation);
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    if (parser.parse(request.body).get(body) != simdjson::SUCCESS || !body.is_object()) {
      return json_error(response, 400, "com.amazon.coral.service#SerializationException",
                        "the body is not a JSON object");
    }
    try {
      if (service == "AmazonSQS") return sqs(operation, body, response);
      if (service == "DynamoDB_20120810") return dynamodb(operation, body, response);
      json_error(response, 400, "com.amazon.coral.service#UnknownOperationException",
                 "unknown X-Amz-Target " + target);
    } catch (const ExpressionError& error) {
      json_error(response, 400, "com.amazon.coral.validate#ValidationException", error.what());
    }
  }

  void ok(httplib::Response& response, std::string body) {
    response.set_content(std::move(body), "application/x-amz-json-1.0");
  }

  std::string queue_url(std::string_view name) const {
    return fmt::format("http://127.0.0.1:{}/{}/{}", options_.port, kAccount, name);
  }
  static std::string queue_name(std::string_view url) {
    const auto slash = url.rfind('/');
    return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
  }
  bool is_dlq(std::string_view name) const { return name != kNotificationQueue; }

  void sqs(const std::string& operation, simdjson::dom::element body, httplib::Response& response) {
    if (operation == "GetQueueUrl") {
      return ok(response, fmt::format(R"({{"QueueUrl":{}}})",
                                      json_string(queue_url(string_of(body, "QueueName")))));
    }
    const std::string name = queue_name(string_of(body, "QueueUrl"));
    if (operation == "GetQueueAttributes") {
      const std::size_t live = name == kNotificationQueue ? notifications_->live() : 0;
      return ok(response,
                fmt::format(R"({{"Attributes":{{"QueueArn":"arn:aws:sqs:us-east-1:{}:{}",)"
                            R"("ApproximateNumberOfMessages":"{}","VisibilityTimeout":"60"}}}})",
                            kAccount, name, live));
    }
    if (operation == "ReceiveMessage") {
      const int max_messages =
          static_cast<int>(std::clamp<std::int64_t>(int_of(body, "MaxNumberOfMessages", 1), 1, 10));
      const auto wait =
          std::chrono::seconds(std::clamp<std::int64_t>(int_of(body, "WaitTimeSeconds", 0), 0, 20));
      const auto visibility = std::chrono::seconds(int_of(body, "VisibilityTimeout", 30));
      bool want_attributes = false;
      for (const char* list : {"AttributeNames", "MessageSystemAttributeNames"}) {
        simdjson::dom::array names;
        if (body[list].get(names) != simdjson::SUCCESS) continue;
        for (const auto entry : names) {
          std::string_view text;
          if (entry.get(text) == simdjson::SUCCESS &&
              (text == "All" || text == "ApproximateReceiveCount" || text == "SentTimestamp"))
            want_attributes = true;
        }
      }
      if (is_dlq(name)) {
        // The DLQ is write-only here: a receive on it is an empty long poll.
        std::this_thread::sleep_for(std::min<std::chrono::seconds>(wait, std::chrono::seconds(1)));
        return ok(response, R"({"Messages":[]})");
      }
      std::string messages =
          notifications_->receive(max_messages, visibility, wait, want_attributes);
      return ok(response, R"({"Messages":)" + messages + "}");
    }
    if (operation == "DeleteMessage" || operation == "ChangeMessageVisibility") {
      const std::string handle = string_of(body, "ReceiptHandle");
      const bool known = operation == "DeleteMessage"
                             ? notifications_->remove(handle)
                             : notifications_->change_visibility(
                                   handle, static_cast<int>(int_of(body, "VisibilityTimeout", 30)));
      if (!known) {
        return json_error(
            response, 400, "com.amazonaws.sqs#ReceiptHandleIsInvalid",
            "The input receipt handle \"" + handle + "\" is not a valid receipt handle.");
      }
      if (operation == "DeleteMessage") counters_.add("sqs.messages_deleted");
      return ok(response, "{}");
    }
    if (operation == "SendMessage") return ok(response, send(body, ""));
    simdjson::dom::array entries;
    if (body["Entries"].get(entries) != simdjson::SUCCESS) {
      return json_error(response, 400, "com.amazonaws.sqs#EmptyBatchRequest", "no Entries");
    }
    std::string successful = "[";
    std::string failed = "[";
    const auto append = [](std::string& list, const std::string& entry) {
      if (list.size() > 1) list += ',';
      list += entry;
    };
    for (const auto entry : entries) {
      const std::string id = string_of(entry, "Id");
      if (operation == "DeleteMessageBatch" || operation == "ChangeMessageVisibilityBatch") {
        const std::string handle = string_of(entry, "ReceiptHandle");
        const bool deleting = operation == "DeleteMessageBatch";
        const bool known =
            deleting ? notifications_->remove(handle)
                     : notifications_->change_visibility(
                           handle, static_cast<int>(int_of(entry, "VisibilityTimeout", 30)));
        if (known) {
          if (deleting) counters_.add("sqs.messages_deleted");
          append(successful, fmt::format(R"({{"Id":{}}})", json_string(id)));
        } else {
          append(failed,
                 fmt::format(R"({{"Id":{},"Code":"ReceiptHandleIsInvalid","SenderFault":true,)"
                             R"("Message":"not a valid receipt handle"}})",
                             json_string(id)));
        }
      } else if (operation == "SendMessageBatch") {
        append(successful, send(entry, id));
      } else {
        return json_error(response, 400, "com.amazonaws.sqs#UnsupportedOperation",
                          operation + " is not served here");
      }
    }
    ok(response, fmt::format(R"({{"Successful":{},"Failed":{}}})", successful + "]", failed + "]"));
  }

  // One message into the DLQ: counted, answered with the real MD5s.
  std::string send(simdjson::dom::element message, const std::string& id) {
    const std::string text = string_of(message, "MessageBody");
    dead_letters_.messages += 1;
    dead_letters_.bytes += text.size();
    std::string entry = "{";
    if (!id.empty()) entry += R"("Id":)" + json_string(id) + ",";
    const std::uint64_t serial = dead_letters_.messages.load();
    fmt::format_to(std::back_inserter(entry), R"("MessageId":"dlq-{:012}","MD5OfMessageBody":"{}")",
                   serial, md5_hex(text));
    simdjson::dom::object attributes;
    if (message["MessageAttributes"].get(attributes) == simdjson::SUCCESS &&
        attributes.size() > 0) {
      fmt::format_to(std::back_inserter(entry), R"(,"MD5OfMessageAttributes":"{}")",
                     md5_of_attributes(attributes));
    }
    return entry + "}";
  }

  TokenBucket* bucket_of(const std::string& table) {
    if (options_.wcu <= 0) return nullptr;
    const std::lock_guard lock(tables_mutex_);
    auto& bucket = buckets_[table];
    if (!bucket) bucket = std::make_unique<TokenBucket>(options_.wcu, options_.burst_seconds);
    return bucket.get();
  }

  void dynamodb(const std::string& operation, simdjson::dom::element body,
                httplib::Response& response) {
    const std::string table = string_of(body, "TableName");
    if (operation == "DescribeTable") {
      return ok(
          response,
          fmt::format(
              R"({{"Table":{{"TableName":{},"TableStatus":"ACTIVE","ItemCount":0,)"
              R"("TableArn":"arn:aws:dynamodb:us-east-1:{}:table/{}","BillingModeSummary":{{"BillingMode":"{}"}}}}}})",
              json_string(table), kAccount, table,
              options_.wcu > 0 ? "PROVISIONED" : "PAY_PER_REQUEST"));
    }
    if (operation == "BatchWriteItem") return batch_write(body, response);
    if (table != kLedgerTable) {
      if (operation == "PutItem") {
        // Data-table items are not stored, so a condition is checked against
        // an absent item (salesflow's "attribute_not_exists(#pk) OR ..." holds).
        simdjson::dom::object item;
        if (body["Item"].get(item) != simdjson::SUCCESS)
          return json_error(response, 400, "com.amazon.coral.validate#ValidationException",
                            "no Item");
        const std::size_t bytes = item_size(item);
        if (TokenBucket* bucket = bucket_of(table);
            bucket != nullptr && bucket->take({write_units(bytes)}) == 0) {
          counters_.add("dynamodb.throttled_requests");
          return json_error(
              response, 400,
              "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
              "The level of configured provisioned throughput for the table was exceeded.");
        }
        const std::string condition = string_of(body, "ConditionExpression");
        if (!condition.empty() && !Expression(condition, body["ExpressionAttributeNames"],
                                              body["ExpressionAttributeValues"], nullptr)
                                       .condition()) {
          return json_error(response, 400,
                            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                            "The conditional request failed");
        }
        counters_.add("dynamodb.items_written");
        counters_.add("dynamodb.item_bytes", bytes);
        counters_.add("dynamodb.write_units", write_units(bytes));
        return ok(response, "{}");
      }
      return json_error(response, 400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                        operation + " on " + table + ": only the ledger table stores items here");
    }
    ledger(operation, body, response);
  }

  void batch_write(simdjson::dom::element body, httplib::Response& response) {
    simdjson::dom::object request_items;
    if (body["RequestItems"].get(request_items) != simdjson::SUCCESS)
      return json_error(response, 400, "com.amazon.coral.validate#ValidationException",
                        "no RequestItems");
    std::string unprocessed = "{";
    std::size_t written_in_request = 0;
    std::size_t asked = 0;
    for (const auto table_entry : request_items) {
      const std::string table(table_entry.key);
      simdjson::dom::array requests;
      if (table_entry.value.get(requests) != simdjson::SUCCESS) continue;
      std::vector<simdjson::dom::element> items;
      std::vector<std::uint64_t> costs;
      std::vector<std::size_t> sizes;
      for (const auto entry : requests) {
        simdjson::dom::object item;
        if (entry["PutRequest"]["Item"].get(item) != simdjson::SUCCESS)
          return json_error(response, 400, "com.amazon.coral.validate#ValidationException",
                            "only PutRequest is served");
        items.push_back(entry);
        sizes.push_back(item_size(item));
        costs.push_back(write_units(sizes.back()));
      }
      asked += items.size();
      TokenBucket* bucket = bucket_of(table);
      const std::size_t taken = bucket == nullptr ? items.size() : bucket->take(costs);
      for (std::size_t i = 0; i < taken; ++i) {
        counters_.add("dynamodb.item_bytes", sizes[i]);
        counters_.add("dynamodb.write_units", costs[i]);
      }
      counters_.add("dynamodb.items_written", taken);
      written_in_request += taken;
      if (taken < items.size()) {
        if (unprocessed.size() > 1) unprocessed += ',';
        append_json_string(unprocessed, table);
        unprocessed += ":[";
        for (std::size_t i = taken; i < items.size(); ++i) {
          if (i > taken) unprocessed += ',';
          unprocessed += simdjson::minify(items[i]);
        }
        unprocessed += ']';
      }
    }
    if (written_in_request == 0 && asked > 0) {
      // DynamoDB answers a batch none of whose items fits with the exception.
      counters_.add("dynamodb.throttled_requests");
      return json_error(
          response, 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
          "The level of configured provisioned throughput for the table was exceeded. "
          "Consider increasing your provisioning level with the UpdateTable API.");
    }
    if (unprocessed.size() > 1) counters_.add("dynamodb.partially_throttled_requests");
    ok(response, R"({"UnprocessedItems":)" + unprocessed + "}}");
  }

  void ledger(const std::string& operation, simdjson::dom::element body,
              httplib::Response& response) {
    simdjson::dom::element key_element;
    if (body["Key"].get(key_element) != simdjson::SUCCESS &&
        body["Item"].get(key_element) != simdjson::SUCCESS)
      return json_error(response, 400, "com.amazon.coral.validate#ValidationException", "no Key");
    simdjson::dom::element key_attribute;
    if (key_element["object_id"].get(key_attribute) != simdjson::SUCCESS)
      return json_error(response, 400, "com.amazon.coral.validate#ValidationException",
                        "the ledger's key is object_id");
    const std::string key = attribute_value(key_attribute).text;
    const auto names = body["ExpressionAttributeNames"];
    const auto values = body["ExpressionAttributeValues"];
    const std::string condition = string_of(body, "ConditionExpression");
    const std::string return_values = string_of(body, "ReturnValues");
    const std::lock_guard lock(ledger_mutex_);
    const auto found = ledger_.find(key);
    const Item* existing = found == ledger_.end() ? nullptr : &found->second;
    if (operation == "GetItem") {
      return ok(response, existing == nullptr ? "{}" : R"({"Item":)" + item_json(*existing) + "}");
    }
    if (!condition.empty() && !Expression(condition, names, values, existing).condition()) {
      counters_.add("dynamodb.ledger_condition_failed");
      return json_error(response, 400,
                        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                        "The conditional request failed");
    }
    const Item old = existing == nullptr ? Item{} : *existing;
    if (operation == "UpdateItem") {
      Item updated = old;
      updated["object_id"] = AttributeValue{"S", key};
      Expression(string_of(body, "UpdateExpression"), names, values, &old).update(updated);
      ledger_[key] = updated;
      if (return_values == "ALL_NEW")
        return ok(response, R"({"Attributes":)" + item_json(updated) + "}");
    } else if (operation == "PutItem") {
      Item item;
      simdjson::dom::object fields;
      if (body["Item"].get(fields) == simdjson::SUCCESS)
        for (const auto field : fields) item[std::string(field.key)] = attribute_value(field.value);
      ledger_[key] = item;
    } else if (operation == "DeleteItem") {
      ledger_.erase(key);
    } else {
      return json_error(response, 400, "com.amazon.coral.service#UnknownOperationException",
                        operation);
    }
    if (return_values == "ALL_OLD" && existing != nullptr)
      return ok(response, R"({"Attributes":)" + item_json(old) + "}");
    ok(response, "{}");
  }

  std::string stats() {
    std::size_t done = 0;
    {
      const std::lock_guard lock(ledger_mutex_);
      for (const auto& [key, item] : ledger_) {
        const auto state = item.find("state");
        if (state != item.end() && state->second.text == "done") ++done;
      }
    }
    const double uptime = std::chrono::duration<double>(Clock::now() - started_).count();
    return fmt::format(
        R"({{"objects":{},"records":{},"rejects_generated":{},"counters":{},"dlq_messages":{},"dlq_bytes":{},)"
        R"("notifications_deleted":{},"notifications_left":{},"ledger_done":{},"cpu_seconds":{:.3f},"uptime_seconds":{:.3f},)"
        R"("wcu":{},"burst_seconds":{},"latency_ms":{}}})",
        objects_.size(), records_, rejects_, counters_.json(), dead_letters_.messages.load(),
        dead_letters_.bytes.load(), notifications_->deleted(), notifications_->live(), done,
        cpu_seconds_self(), uptime, options_.wcu, options_.burst_seconds, options_.latency_ms);
  }

  Options options_;
  Clock::time_point started_;
  std::vector<StoredObject> objects_;
  std::uint64_t records_ = 0;
  std::uint64_t rejects_ = 0;
  std::unique_ptr<Queue> notifications_;
  DeadLetterCount dead_letters_;
  Counters counters_;
  std::mutex tables_mutex_;
  std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;
  std::mutex ledger_mutex_;
  std::map<std::string, Item> ledger_;
};

Options parse_options(int argc, char** argv) {
  Options options;
  // Every option but --burst-seconds is a whole number.
  const std::map<std::string_view, int Options::*> whole_numbers{
      {"--port", &Options::port},
      {"--objects", &Options::objects},
      {"--records", &Options::records},
      {"--record-bytes", &Options::record_bytes},
      {"--reject-every", &Options::reject_every},
      {"--latency-ms", &Options::latency_ms},
      {"--wcu", &Options::wcu},
      {"--threads", &Options::threads}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", flag));
    const std::string value = argv[++i];
    if (const auto member = whole_numbers.find(flag); member != whole_numbers.end()) {
      options.*(member->second) = std::stoi(value);
    } else if (flag == "--burst-seconds") {
      options.burst_seconds = std::stod(value);
    } else {
      throw std::invalid_argument(fmt::format("unknown option {}", flag));
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "bench_sink: {}\n", error.what());
    return 2;
  }
  // SIGTERM/SIGINT are taken by a sigwait thread: blocked here, before any
  // thread exists, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Sink sink(options);
  httplib::Server server;
  // Thread per request from a pool large enough for `--latency-ms` sleeps and
  // long polls with many requests in flight. httplib owns the queue it gets.
  const int threads = options.threads;
  server.new_task_queue = [threads] {
    return std::make_unique<httplib::ThreadPool>(threads).release();
  };
  // Without TCP_NODELAY, httplib's separate header and body writes wait on the
  // client's delayed ACK (Nagle): the sink, not the worker, would pace requests.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000000);
  server.set_read_timeout(30);
  server.set_write_timeout(30);
  sink.install(server);

  std::thread stopper([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    server.stop();
    sink.wake_long_polls();
  });
  if (!server.bind_to_port("127.0.0.1", options.port)) {
    fmt::print(stderr, "bench_sink: cannot listen on 127.0.0.1:{}\n", options.port);
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    return 1;
  }
  fmt::print("bench_sink: listening on 127.0.0.1:{} ({} objects x {} records)\n", options.port,
             options.objects, options.records);
  std::fflush(stdout);
  server.listen_after_bind();
  stopper.join();
  return 0;
}
