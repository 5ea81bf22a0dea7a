#include "pipeline/s3_blob_sink.hpp"

namespace salesflow::pipeline {

void S3BlobSink::put(std::string bucket, std::string key, std::string body,
                     std::function<void(std::string error)> done) {
  client_.put_object_async(std::move(bucket), std::move(key), std::move(body),
                           [done = std::move(done)](aws::Result<aws::PutObjectResult> result) {
                             done(result ? std::string() : result.error().to_string());
                           });
}

}  // namespace salesflow::pipeline
