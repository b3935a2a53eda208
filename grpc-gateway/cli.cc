// iarnet-cli: calls the provider's RPCs from a shell, as the iarnet control plane would.
//
//   iarnet-cli [--address HOST:PORT] [--older] [--timeout 30s] COMMAND ARGS
//     connect ID | disconnect ID | health ID
//     capacity | available | usage                      [--provider-id ID]
//     deploy INSTANCE (--language python | --image IMAGE) --cpu MILLICORES --memory 512Mi
//            [--gpu N] [--env NAME=VALUE]...           [--provider-id ID]
//     undeploy INSTANCE                                  [--provider-id ID]
//
// Prints the response as JSON. Exit status: 0 success, 1 the call failed or the response
// carries an error, 2 bad usage.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <map>
#include <vector>

#include "api/proto_conversions.h"
#include "api/quantity.h"
#include "grpc-gateway/config.h"
#include "grpc-gateway/provider_client.h"
#include "resource/provider/provider.pb.h"

namespace pb = resource::provider;

namespace {

const char* kUsage =
    "usage: iarnet-cli [--address HOST:PORT] [--older] [--timeout 30s] COMMAND ARGS\n"
    "  connect ID | disconnect ID | health ID\n"
    "  capacity | available | usage                    [--provider-id ID]\n"
    "  deploy INSTANCE (--language python | --image IMAGE) --cpu MILLICORES --memory QTY\n"
    "         [--gpu N] [--env NAME=VALUE]...          [--provider-id ID]\n"
    "  undeploy INSTANCE                               [--provider-id ID]\n";

struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> flags;
  bool older = false;
  std::string Flag(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
};

struct UsageError {
  std::string message;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--older") {
      a.older = true;
    } else if (arg == "-h" || arg == "--help") {
      throw UsageError{""};
    } else if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2), value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw UsageError{"--" + name + " needs a value"};
      }
      a.flags.emplace(name, value);
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

int64_t Number(const std::string& flag, const std::string& text, bool milli) {
  auto r = milli ? iarnet::ParseMilliQuantity(text) : iarnet::ParseQuantity(text);
  if (auto* e = std::get_if<iarnet::QuantityError>(&r))
    throw UsageError{"--" + flag + ": " + e->message};
  return std::get<int64_t>(r);
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

template <class Req, class Resp>
int Run(iarnet::ProviderClient& client, const std::string& method, const Req& req,
        std::chrono::milliseconds timeout) {
  Resp resp;
  grpc::Status s = client.Call(method, req, &resp, timeout);
  if (!s.ok()) {
    std::cerr << "error: " << method << ": " << s.error_message() << " (gRPC code "
              << s.error_code() << ")\n";
    return 1;
  }
  std::cout << Json(resp);
  // Connect, Deploy and Undeploy report failure in their `error` field.
  const auto* field = resp.GetDescriptor()->FindFieldByName("error");
  if (field && !resp.GetReflection()->GetString(resp, field).empty()) return 1;
  return 0;
}

std::string Need(const Args& a, size_t index, const std::string& what) {
  if (a.positional.size() <= index) throw UsageError{a.positional[0] + " needs " + what};
  return a.positional[index];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = Parse(argc, argv);
    if (a.positional.empty()) throw UsageError{"no command"};
    auto timeout = iarnet::ParseDuration(a.Flag("timeout", "30s"));
    if (!timeout) throw UsageError{"--timeout: not a duration"};
    auto channel = grpc::CreateChannel(a.Flag("address", "127.0.0.1:50052"),
                                       grpc::InsecureChannelCredentials());
    iarnet::ProviderClient client(channel,
                                  a.older ? "provider.Service" : "resource.provider.Service");
    const std::string& cmd = a.positional[0];
    std::string provider_id = a.Flag("provider-id");
    if (cmd == "connect") {
      pb::ConnectRequest r;
      r.set_provider_id(Need(a, 1, "a provider id"));
      return Run<pb::ConnectRequest, pb::ConnectResponse>(client, "Connect", r, *timeout);
    }
    if (cmd == "disconnect") {
      pb::DisconnectRequest r;
      r.set_provider_id(Need(a, 1, "a provider id"));
      return Run<pb::DisconnectRequest, pb::DisconnectResponse>(client, "Disconnect", r, *timeout);
    }
    if (cmd == "health") {
      pb::HealthCheckRequest r;
      r.set_provider_id(Need(a, 1, "a provider id"));
      return Run<pb::HealthCheckRequest, pb::HealthCheckResponse>(client, "HealthCheck", r,
                                                                  *timeout);
    }
    if (cmd == "capacity") {
      pb::GetCapacityRequest r;
      r.set_provider_id(provider_id);
      return Run<pb::GetCapacityRequest, pb::GetCapacityResponse>(client, "GetCapacity", r,
                                                                  *timeout);
    }
    if (cmd == "available") {
      pb::GetAvailableRequest r;
      r.set_provider_id(provider_id);
      return Run<pb::GetAvailableRequest, pb::GetAvailableResponse>(client, "GetAvailable", r,
                                                                    *timeout);
    }
    if (cmd == "usage") {
      pb::GetRealTimeUsageRequest r;
      r.set_provider_id(provider_id);
      return Run<pb::GetRealTimeUsageRequest, pb::GetRealTimeUsageResponse>(
          client, "GetRealTimeUsage", r, *timeout);
    }
    if (cmd == "deploy") {
      pb::DeployRequest r;
      r.set_instance_id(Need(a, 1, "an instance id"));
      r.set_provider_id(provider_id);
      r.set_image(a.Flag("image"));
      if (auto lang = a.Flag("language"); !lang.empty()) {
        auto l = iarnet::ParseLanguage(lang);
        if (!l) throw UsageError{"--language: unknown language " + lang};
        r.set_language(static_cast<common::Language>(iarnet::ToProto(*l)));
      }
      auto* q = r.mutable_resource_request();
      q->set_cpu(Number("cpu", a.Flag("cpu", "0"), false));
      q->set_memory(Number("memory", a.Flag("memory", "0"), false));
      q->set_gpu(Number("gpu", a.Flag("gpu", "0"), false));
      for (auto [it, end] = a.flags.equal_range("env"); it != end; ++it) {
        auto eq = it->second.find('=');
        if (eq == std::string::npos) throw UsageError{"--env takes NAME=VALUE"};
        (*r.mutable_env_vars())[it->second.substr(0, eq)] = it->second.substr(eq + 1);
      }
      return Run<pb::DeployRequest, pb::DeployResponse>(client, "Deploy", r, *timeout);
    }
    if (cmd == "undeploy") {
      pb::UndeployRequest r;
      r.set_instance_id(Need(a, 1, "an instance id"));
      r.set_provider_id(provider_id);
      return Run<pb::UndeployRequest, pb::UndeployResponse>(client, "Undeploy", r, *timeout);
    }
    throw UsageError{"unknown command " + cmd};
  } catch (const UsageError& e) {
    if (!e.message.empty()) std::cerr << "error: " << e.message << "\n";
    std::cerr << kUsage;
    return e.message.empty() ? 0 : 2;
  }
}
