// SigV4 signing cost of a typical DynamoDB BatchWriteItem POST (4 KB body).

#include "aws/sigv4.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "base/digest.hpp"

namespace {

using namespace salesflow::aws;

const Credentials kCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                               "", std::nullopt};
const SigningScope kScope{"us-east-1", "dynamodb"};
const auto kNow = std::chrono::sys_days(std::chrono::year(2024) / 3 / 1) + std::chrono::hours(12);

HttpRequest dynamodb_request() {
  HttpRequest request;
  request.method = "POST";
  request.host = "dynamodb.us-east-1.amazonaws.com";
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"}};
  request.body.assign(4096, 'x');
  return request;
}

// Everything per request: payload hash, canonical request, key from the cache, signature.
void BM_SignDynamoDbPost4KbWithBodyHash(benchmark::State& state) {
  const HttpRequest prototype = dynamodb_request();
  SigningKeyCache cache;
  for (auto _ : state) {
    HttpRequest request = prototype;
    sign_request(request, kCredentials, kScope, kNow, {}, &cache);
    benchmark::DoNotOptimize(request.headers.back().value.data());
  }
}
BENCHMARK(BM_SignDynamoDbPost4KbWithBodyHash);

// The payload hash supplied by the caller (hashed while the body was built).
void BM_SignDynamoDbPost4KbPrecomputedHash(benchmark::State& state) {
  const HttpRequest prototype = dynamodb_request();
  SigningOptions options;
  options.payload_hash = salesflow::base::sha256_hex(prototype.body);
  SigningKeyCache cache;
  for (auto _ : state) {
    HttpRequest request = prototype;
    sign_request(request, kCredentials, kScope, kNow, options, &cache);
    benchmark::DoNotOptimize(request.headers.back().value.data());
  }
}
BENCHMARK(BM_SignDynamoDbPost4KbPrecomputedHash);

// Without the key cache: four extra HMACs per request.
void BM_SignDynamoDbPost4KbNoKeyCache(benchmark::State& state) {
  const HttpRequest prototype = dynamodb_request();
  for (auto _ : state) {
    HttpRequest request = prototype;
    sign_request(request, kCredentials, kScope, kNow);
    benchmark::DoNotOptimize(request.headers.back().value.data());
  }
}
BENCHMARK(BM_SignDynamoDbPost4KbNoKeyCache);

// The copy of the request the benchmarks above pay for, to subtract.
void BM_CopyRequestOnly(benchmark::State& state) {
  const HttpRequest prototype = dynamodb_request();
  for (auto _ : state) {
    HttpRequest request = prototype;
    benchmark::DoNotOptimize(request.body.data());
  }
}
BENCHMARK(BM_CopyRequestOnly);

void BM_Sha256_4Kb(benchmark::State& state) {
  const std::string body(4096, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(salesflow::base::sha256(body));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 4096);
}
BENCHMARK(BM_Sha256_4Kb);

void BM_DeriveSigningKey(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        derive_signing_key(kCredentials.secret_access_key, "20240301", "us-east-1", "dynamodb"));
  }
}
BENCHMARK(BM_DeriveSigningKey);

}  // namespace

BENCHMARK_MAIN();
