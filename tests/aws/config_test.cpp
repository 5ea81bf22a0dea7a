#include "aws/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace salesflow::aws {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

class AwsConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("salesflow-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "config") << "[default]\nregion = eu-central-1\n"
                                      "[profile local]\nregion = us-west-2\n"
                                      "endpoint_url = http://127.0.0.1:4566\n"
                                      "[profile vhost]\nendpoint_url = https://minio.example:9000\n"
                                      "s3 =\n  addressing_style = virtual\n";
    base_ = {{"AWS_CONFIG_FILE", (dir_ / "config").string()},
             {"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "none").string()}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<AwsConfig> load(Env extra, const ConfigOverrides& overrides = {}) {
    Env env = base_;
    env.merge(extra);
    return AwsConfig::load(environment_from_map(env), overrides);
  }
  std::filesystem::path dir_;
  Env base_;
};

TEST_F(AwsConfigTest, DefaultsToAwsEndpointsOfTheRegion) {
  const auto config = load({{"AWS_REGION", "eu-west-1"}});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->region, "eu-west-1");
  EXPECT_EQ(config->profile, "default");
  EXPECT_EQ(config->dynamodb.url(), "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(config->sqs.url(), "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(config->s3.url(), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(config->sts.url(), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_FALSE(config->s3.is_custom);
  EXPECT_FALSE(config->s3_path_style);
}

TEST_F(AwsConfigTest, RegionPrecedence) {
  EXPECT_EQ(load({})->region, "eu-central-1");  // profile
  EXPECT_EQ(load({{"AWS_DEFAULT_REGION", "ap-south-1"}})->region, "ap-south-1");
  EXPECT_EQ(load({{"AWS_DEFAULT_REGION", "ap-south-1"}, {"AWS_REGION", "sa-east-1"}})->region,
            "sa-east-1");
  ConfigOverrides overrides;
  overrides.region = "ca-central-1";
  EXPECT_EQ(load({{"AWS_REGION", "sa-east-1"}}, overrides)->region, "ca-central-1");
  EXPECT_EQ(load({{"AWS_PROFILE", "local"}})->region, "us-west-2");
  base_["AWS_CONFIG_FILE"] = (dir_ / "none").string();
  const auto missing = load({});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "NoRegion");
}

TEST_F(AwsConfigTest, EndpointPrecedenceAndPathStyleForCustomEndpoints) {
  const auto config = load({{"AWS_REGION", "us-east-1"},
                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:1000/"},
                            {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2000"}});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->dynamodb.url(), "http://127.0.0.1:2000");
  EXPECT_EQ(config->sqs.url(), "http://127.0.0.1:1000");
  EXPECT_EQ(config->s3.host, "127.0.0.1:1000");
  EXPECT_TRUE(config->s3.is_custom);
  EXPECT_TRUE(config->s3_path_style);

  ConfigOverrides overrides;
  overrides.s3_endpoint_url = "https://s3.internal:8443";
  overrides.s3_path_style = false;
  const auto overridden =
      load({{"AWS_REGION", "us-east-1"}, {"AWS_ENDPOINT_URL_S3", "http://ignored:1"}}, overrides);
  EXPECT_EQ(overridden->s3.url(), "https://s3.internal:8443");
  EXPECT_FALSE(overridden->s3_path_style);
}

TEST_F(AwsConfigTest, ProfileEndpointAndAddressingStyle) {
  const auto local = load({{"AWS_PROFILE", "local"}});
  EXPECT_EQ(local->sqs.url(), "http://127.0.0.1:4566");
  EXPECT_TRUE(local->s3_path_style);
  ConfigOverrides overrides;
  overrides.profile = "vhost";
  const auto vhost = load({{"AWS_REGION", "us-east-1"}}, overrides);
  EXPECT_EQ(vhost->profile, "vhost");
  EXPECT_FALSE(vhost->s3_path_style);
}

TEST_F(AwsConfigTest, InvalidEndpointIsAnError) {
  for (const char* url : {"127.0.0.1:4566", "ftp://host", "http://", "http://host/path"}) {
    const auto config = load({{"AWS_REGION", "us-east-1"}, {"AWS_ENDPOINT_URL_SQS", url}});
    ASSERT_FALSE(config) << url;
    EXPECT_EQ(config.error().code, "InvalidEndpoint");
  }
}

TEST_F(AwsConfigTest, S3LocationVirtualHostedOnAwsPathStyleOtherwise) {
  auto config = *load({{"AWS_REGION", "eu-west-1"}});
  auto location = config.s3_location("sales-in", "2024/03/orders 1+2.json.gz");
  EXPECT_EQ(location.host, "sales-in.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(location.path, "/2024/03/orders%201%2B2.json.gz");
  location = config.s3_location("sales.in", "k");  // dotted bucket: path style
  EXPECT_EQ(location.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(location.path, "/sales.in/k");
  config.s3_path_style = true;
  location = config.s3_location("sales-in", "~a/b");
  EXPECT_EQ(location.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(location.path, "/sales-in/~a/b");
}

TEST_F(AwsConfigTest, CredentialsChainUsesTheConfiguredProfile) {
  std::ofstream(dir_ / "credentials") << "[local]\naws_access_key_id = LOCALKEY\n"
                                         "aws_secret_access_key = s\n";
  base_["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "credentials").string();
  Env env = base_;
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  ConfigOverrides overrides;
  overrides.profile = "local";
  const auto config = AwsConfig::load(environment_from_map(env), overrides);
  ASSERT_TRUE(config);
  const auto credentials = make_credentials_chain(*config, environment_from_map(env))->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "LOCALKEY");
}

// A PEM file in the shape of a CA bundle (the certificate itself is never parsed here).
constexpr const char* kPemBundle =
    "# a CA bundle\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUAAAA\n"
    "-----END CERTIFICATE-----\n";

TEST_F(AwsConfigTest, NoCaBundleMeansTheSystemStore) {
  const auto config = load({{"AWS_REGION", "us-east-1"}});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->ca_bundle, "");
  // An empty variable counts as not set, as in the AWS SDKs.
  const auto empty = load({{"AWS_REGION", "us-east-1"}, {"AWS_CA_BUNDLE", ""}});
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->ca_bundle, "");
}

TEST_F(AwsConfigTest, CaBundleFromTheEnvironmentBeatsTheProfile) {
  const std::string from_env = (dir_ / "env-ca.pem").string();
  const std::string from_profile = (dir_ / "profile-ca.pem").string();
  std::ofstream(from_env) << kPemBundle;
  std::ofstream(from_profile) << kPemBundle;
  std::ofstream(dir_ / "config") << "[default]\nregion = eu-central-1\nca_bundle = " << from_profile
                                 << "\n";
  const auto profile = load({});
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_EQ(profile->ca_bundle, from_profile);
  const auto env = load({{"AWS_CA_BUNDLE", from_env}});
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->ca_bundle, from_env);
}

TEST_F(AwsConfigTest, MissingCaBundleIsAnErrorAtLoad) {
  const std::string missing = (dir_ / "no-such-ca.pem").string();
  const auto config = load({{"AWS_REGION", "us-east-1"}, {"AWS_CA_BUNDLE", missing}});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "InvalidCaBundle");
  EXPECT_EQ(config.error().message, "CA bundle '" + missing +
                                        "' (AWS_CA_BUNDLE): cannot read it: No such file or "
                                        "directory");
}

TEST_F(AwsConfigTest, MissingCaBundleOfTheProfileNamesTheProfile) {
  const std::string missing = (dir_ / "no-such-ca.pem").string();
  std::ofstream(dir_ / "config") << "[profile tls]\nregion = us-east-1\nca_bundle = " << missing
                                 << "\n";
  const auto config = load({{"AWS_PROFILE", "tls"}});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "InvalidCaBundle");
  EXPECT_NE(config.error().message.find("(ca_bundle of profile 'tls')"), std::string::npos)
      << config.error().message;
}

TEST_F(AwsConfigTest, CaBundleWithoutAPemCertificateIsAnError) {
  const std::string empty = (dir_ / "empty.pem").string();
  const std::string der = (dir_ / "ca.der").string();
  std::ofstream(empty) << "";
  std::ofstream(der) << std::string("\x30\x82\x01\xb3\x30\x82", 6);
  for (const std::string& path : {empty, der, dir_.string()}) {
    const auto config = load({{"AWS_REGION", "us-east-1"}, {"AWS_CA_BUNDLE", path}});
    ASSERT_FALSE(config) << path;
    EXPECT_EQ(config.error().code, "InvalidCaBundle") << path;
    EXPECT_NE(config.error().message.find("'" + path + "' (AWS_CA_BUNDLE)"), std::string::npos)
        << config.error().message;
  }
}

}  // namespace
}  // namespace salesflow::aws
