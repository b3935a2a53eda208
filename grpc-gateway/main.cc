// iarnet-k8s-provider: one process that runs the operator and the gRPC front end.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <iostream>

#include "config.h"

namespace po = boost::program_options;

namespace {

// Blocks until SIGINT or SIGTERM; signals are taken synchronously so no handler runs
// in an arbitrary thread.
int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so every thread inherits it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  po::options_description desc("iarnet-k8s-provider options");
  desc.add_options()("help,h", "show this help")(
      "config,c", po::value<std::string>(), "config file (YAML); built-in defaults when absent")(
      "kubeconfig", po::value<std::string>(), "kubeconfig file (overrides kubernetes.kubeconfig)")(
      "namespace,n", po::value<std::string>(), "namespace (overrides kubernetes.namespace)")(
      "port,p", po::value<int>(), "gRPC port (overrides server.port)")(
      "print-config", "validate the configuration, print it as key=value lines and exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "error: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }

  iarnet::Config config;
  if (vm.count("config")) {
    auto loaded = iarnet::LoadConfigFile(vm["config"].as<std::string>());
    if (auto* e = std::get_if<iarnet::ConfigError>(&loaded)) {
      std::cerr << "error: " << e->message << "\n";
      return 2;
    }
    config = std::get<iarnet::Config>(loaded);
  }
  iarnet::ConfigOverrides overrides;
  if (vm.count("kubeconfig")) overrides.kubeconfig = vm["kubeconfig"].as<std::string>();
  if (vm.count("namespace")) overrides.namespace_ = vm["namespace"].as<std::string>();
  if (vm.count("port")) overrides.port = vm["port"].as<int>();
  if (auto e = iarnet::ApplyOverrides(config, overrides)) {
    std::cerr << "error: " << e->message << "\n";
    return 2;
  }

  if (vm.count("print-config")) {
    std::cout << iarnet::FormatConfig(config);
    return 0;
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::string address = "0.0.0.0:" + std::to_string(config.server.port);
  int bound_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "error: cannot listen on " << address << "\n";
    return 1;
  }
  std::cerr << "iarnet-k8s-provider: gRPC on :" << bound_port << ", namespace "
            << config.kubernetes.namespace_ << "\n";

  int sig = WaitForShutdownSignal();
  std::cerr << "iarnet-k8s-provider: signal " << sig << ", draining\n";
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return 0;
}
