#include "pipeline/detail/s3_blob_sink.hpp"

namespace salesflow::pipeline {

void S3BlobSink::put(std::string bucket, std::string key, std::string body, PutDone done,
                     std::atomic<std::uint64_t>* /*retries: S3 puts are not counted per object*/) {
  client_.put_object_async(std::move(bucket), std::move(key), std::move(body),
                           [done = std::move(done)](aws::Result<aws::PutObjectResult> result) {
                             if (result) {
                               done(std::nullopt);
                             } else {
                               done(std::move(result.error()));
                             }
                           });
}

}  // namespace salesflow::pipeline
