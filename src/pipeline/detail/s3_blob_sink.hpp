#pragma once
// S3 as the BlobSink that stores oversize DLQ envelopes (PutObject).

#include "aws/s3.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

class S3BlobSink final : public BlobSink {
 public:
  explicit S3BlobSink(aws::S3Client& client) : client_(client) {}
  void put(std::string bucket, std::string key, std::string body, PutDone done,
           std::atomic<std::uint64_t>* retries) override;

 private:
  aws::S3Client& client_;
};

}  // namespace salesflow::pipeline
