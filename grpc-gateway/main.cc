// iarnet-k8s-provider: one process that runs the operator and the gRPC front end.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <malloc.h>
#include <unistd.h>
#include <boost/program_options.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <variant>

#include "controller/caches.h"
#include "controller/usage.h"
#include "controller/workload_controller.h"
#include "grpc-gateway/change_notifier.h"
#include "grpc-gateway/config.h"
#include "grpc-gateway/grpc_services.h"
#include "grpc-gateway/operator_metrics.h"
#include "grpc-gateway/options.h"
#include "grpc-gateway/provider_service.h"
#include "grpc-gateway/rest_gateway.h"
#include "grpc-gateway/rpc_table.h"
#include "kube/backoff.h"
#include "kube/client.h"
#include "kube/error.h"
#include "kube/leader_election.h"
#include "kube/log.h"

namespace po = boost::program_options;

namespace {

std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(getpid());
}

std::string ReadFile(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(key + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Plain text, TLS, or mutual TLS (client certificates verified against client_ca_file).
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const iarnet::Config& config) {
  const auto& s = config.server;
  if (s.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions o;
  o.pem_key_cert_pairs.push_back({ReadFile(s.tls_key_file, "server.tls.key_file"),
                                  ReadFile(s.tls_cert_file, "server.tls.cert_file")});
  if (!s.tls_client_ca_file.empty()) {
    o.pem_root_certs = ReadFile(s.tls_client_ca_file, "server.tls.client_ca_file");
    o.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(o);
}

// SIGINT and SIGTERM: blocked in every thread (main blocks them before any starts) and
// taken synchronously, so no handler runs in an arbitrary thread.
sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Waits up to `d` for a shutdown signal: the signal, or 0.
int WaitForSignalFor(std::chrono::milliseconds d) {
  sigset_t set = ShutdownSignals();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  timespec t{static_cast<time_t>(secs.count()),
             static_cast<long>(std::chrono::nanoseconds(d - secs).count())};
  int sig = sigtimedwait(&set, nullptr, &t);
  return sig > 0 ? sig : 0;
}

// Blocks until a shutdown signal. Meanwhile it hands the pages malloc holds free back to
// the system when a burst of work is over (`burst_over`), and at least once a minute:
// decoding cached objects on many threads leaves free pages in each thread's arena
// that glibc would otherwise keep resident. `each_second` runs on every tick.
int WaitForShutdownSignal(const std::function<bool()>& burst_over,
                          const std::function<void()>& each_second) {
  int ticks = 0;
  for (;;) {
    if (int sig = WaitForSignalFor(std::chrono::seconds(1))) return sig;
    each_second();
    if (burst_over() || ++ticks >= 60) {
      malloc_trim(0);
      ticks = 0;
    }
  }
}

// Brings the caches up. Without kubernetes.allow_connection_failure a cluster that cannot
// be reached ends the process (kube::Error propagates). With it, the IarnetProvider
// bootstrap is retried with backoff (800 ms doubling to 30 s) and the informers, which
// retry on their own, are waited for without a deadline, each failure logged; meanwhile
// the process serves as not ready. Returns the signal that ended the wait, or 0 once
// synced.
int StartCaches(iarnet::Caches& caches, bool allow_connection_failure) {
  if (!allow_connection_failure) {
    caches.Start();
    return 0;
  }
  kube::Backoff backoff;
  for (;;) {
    try {
      caches.EnsureProvider();
      break;
    } catch (const kube::Error& e) {
      auto wait = backoff.Next(kube::Clock::now());
      KLOG(kWarning, "startup") << "cannot reach the Kubernetes API (" << e.what()
                                << "); not ready, retrying in " << wait.count() << " ms";
      if (int sig = WaitForSignalFor(wait)) return sig;
    }
  }
  caches.StartInformers();
  auto waiting_since = std::chrono::steady_clock::now();
  while (!caches.WaitForSync(std::chrono::seconds(1))) {
    if (int sig = WaitForSignalFor(std::chrono::milliseconds(0))) return sig;
    if (std::chrono::steady_clock::now() - waiting_since > caches.options().sync_timeout) {
      KLOG(kWarning, "startup") << "the caches have not synced yet; still not ready, waiting";
      waiting_since = std::chrono::steady_clock::now();
    }
  }
  KLOG(kInfo, "startup") << "reached the Kubernetes API; caches synced";
  return 0;
}

// The configuration from the file and the flags, or the exit code when the process
// should end here (--help, --print-config, or an error it printed).
std::variant<iarnet::Config, int> ConfigFromCommandLine(int argc, char** argv) {
  po::options_description desc("iarnet-k8s-provider options");
  desc.add_options()("help,h", "show this help")(
      "config,c", po::value<std::string>(), "config file (YAML); built-in defaults when absent")(
      "kubeconfig", po::value<std::string>(), "kubeconfig file (overrides kubernetes.kubeconfig)")(
      "namespace,n", po::value<std::string>(), "namespace (overrides kubernetes.namespace)")(
      "port,p", po::value<int>(), "gRPC port (overrides server.port)")(
      "http-port", po::value<int>(), "REST/metrics port, 0 for none (overrides server.http_port)")(
      "leader-elect", po::value<bool>()->implicit_value(true),
      "campaign for a Lease before reconciling (overrides leader_election.enabled)")(
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
  if (vm.count("http-port")) overrides.http_port = vm["http-port"].as<int>();
  if (vm.count("leader-elect")) overrides.leader_elect = vm["leader-elect"].as<bool>();
  if (auto e = iarnet::ApplyOverrides(config, overrides)) {
    std::cerr << "error: " << e->message << "\n";
    return 2;
  }

  if (vm.count("print-config")) {
    std::cout << iarnet::FormatConfig(config);
    return 0;
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  // Large blocks (a list answer is megabytes) get their own mappings, returned when
  // freed. Left to glibc's adaptive threshold they land in the heap after the first one
  // and leave holes between the caches' small blocks: with 10,000 workloads that kept
  // the resident set ~20 MiB above what is in use.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // glibc gives each thread that allocates an arena of its own, up to 8 per core of the
  // host (not of the container's CPU limit); each keeps its free memory. The workers,
  // gRPC and REST threads do little allocation each, so a few shared arenas suffice.
  mallopt(M_ARENA_MAX, 4);
  // Block the shutdown signals before any thread starts, so every thread inherits it.
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (const char* level = std::getenv("IARNET_LOG_LEVEL")) {
    if (auto l = kube::ParseLogLevel(level)) kube::SetLogLevel(*l);
  }

  auto parsed = ConfigFromCommandLine(argc, argv);
  if (auto* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const iarnet::Config config = std::get<iarnet::Config>(std::move(parsed));

  // The shared caches (every replica) and the reconciler (the leader's).
  iarnet::Metrics metrics;
  iarnet::ChangeNotifier workload_changes;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<iarnet::Caches> caches;
  std::unique_ptr<iarnet::WorkloadController> controller;
  std::unique_ptr<kube::LeaderElector> elector;
  std::atomic<bool> shutting_down{false};
  // Set once the front end exists (after the controller, which asks it who is connected).
  std::atomic<iarnet::ProviderService*> service_for_controller{nullptr};
  try {
    client = std::make_unique<kube::Client>(
        kube::LoadConfig(config.kubernetes.in_cluster, config.kubernetes.kubeconfig),
        iarnet::TransportOptionsFrom(config));
    iarnet::CachesOptions caches_options = iarnet::CachesOptionsFrom(config);
    // glibc keeps what a thread frees in that thread's arena; after a relist of thousands
    // of objects that is many MiB nobody uses.
    caches_options.release_memory = [] { malloc_trim(0); };
    caches_options.on_change = [&workload_changes] { workload_changes.Notify(); };
    caches = std::make_unique<iarnet::Caches>(*client, caches_options);
    iarnet::ControllerOptions controller_options = iarnet::ControllerOptionsFrom(config);
    // With election, the leader's writes stop the moment its term ends by the clock.
    controller_options.may_write = [&elector] { return !elector || elector->IsLeader(); };
    // Which control plane is connected, for the orphan rule: the front end knows.
    controller_options.connected_id = [&service_for_controller]() -> std::optional<std::string> {
      iarnet::ProviderService* s = service_for_controller.load();
      if (!s) return std::nullopt;
      return s->ConnectedId();
    };
    controller_options.on_reconcile = [&metrics](double seconds, const std::string& result) {
      iarnet::RecordReconcile(metrics, seconds, result);
    };
    controller_options.on_outcome = [&metrics](const std::string& what, const std::string& reason) {
      iarnet::RecordOutcome(metrics, what, reason);
    };
    controller = std::make_unique<iarnet::WorkloadController>(*client, *caches, controller_options);
  } catch (const kube::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }

  // The front end: the provider protocol over gRPC (both service names) and REST.
  iarnet::UsageCollector usage(*client, caches->pods(), iarnet::UsageOptionsFrom(config));
  iarnet::ProviderService service(*client, *caches, usage, workload_changes, metrics,
                                  iarnet::ServiceOptionsFrom(config));
  service_for_controller = &service;
  iarnet::DefineGrpcMetrics(metrics);
  iarnet::DefineUsageMetrics(metrics, usage);
  iarnet::DefineOperatorMetrics(
      metrics, *caches, controller->queue(),
      [&] { return controller->reconciling() ? controller->options().workers : 0; }, service,
      [&] { return elector ? elector->IsLeader() : controller->reconciling(); });
  iarnet::ProviderGrpcService current(iarnet::kCurrentService, service, metrics);
  iarnet::ProviderGrpcService older(iarnet::kOlderService, service, metrics);

  std::shared_ptr<grpc::ServerCredentials> credentials;
  try {
    credentials = ServerCredentials(config);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::string address = "0.0.0.0:" + std::to_string(config.server.port);
  int bound_port = 0;
  builder.AddListeningPort(address, credentials, &bound_port);
  builder.RegisterService(&current);
  builder.RegisterService(&older);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "error: cannot listen on " << address << "\n";
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(false);  // until the caches sync

  std::atomic<bool> ready{false};
  std::unique_ptr<iarnet::RestGateway> rest;
  if (config.server.http_port != 0) {
    rest = std::make_unique<iarnet::RestGateway>(iarnet::HttpOptionsFrom(config), service, usage,
                                                 metrics, [&ready] { return ready.load(); });
    try {
      rest->Start();
    } catch (const std::exception& e) {
      std::cerr << "error: cannot listen on HTTP port " << config.server.http_port << ": "
                << e.what() << "\n";
      return 1;
    }
  }

  // gRPC and REST listen from here on, as not ready (health NOT_SERVING, /readyz 503,
  // RPCs UNAVAILABLE) until the caches have synced.
  auto end_before_ready = [&](int exit_code) {
    if (rest) rest->Stop(std::chrono::steady_clock::now());
    server->Shutdown(std::chrono::system_clock::now());
    caches->Stop();
    client->Shutdown();
    return exit_code;
  };
  try {
    if (int sig = StartCaches(*caches, config.kubernetes.allow_connection_failure)) {
      std::cerr << "iarnet-k8s-provider: signal " << sig << " before the caches synced\n";
      return end_before_ready(0);
    }
  } catch (const kube::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return end_before_ready(1);
  }

  if (config.leader_election.enabled) {
    kube::LeaderElector::Options o = iarnet::ElectorOptionsFrom(config, Identity());
    o.on_started_leading = [&controller] { controller->StartReconciling(); };
    o.on_stopped_leading = [&shutting_down] {
      if (shutting_down) return;
      // As controller-runtime does: a replica that lost its lease exits at once rather
      // than risk reconciling next to the new leader; it restarts as a follower.
      std::cerr << "iarnet-k8s-provider: lost the leader lease; exiting\n";
      std::_Exit(1);
    };
    o.on_new_leader = [](const std::string& id) {
      std::cerr << "iarnet-k8s-provider: the leader is " << id << "\n";
    };
    elector = std::make_unique<kube::LeaderElector>(client->config(), o);
    elector->Start();
  } else {
    controller->StartReconciling();
  }
  // Serving only now: the caches have synced (and, without election, the ledger is
  // rebuilt). A follower serves too: Deploy writes a workload the leader admits.
  service.SetServing(true);
  server->GetHealthCheckService()->SetServingStatus(true);
  ready = true;
  std::cerr << "iarnet-k8s-provider: gRPC on :" << bound_port
            << (config.server.tls_cert_file.empty() ? "" : " (TLS)")
            << ", HTTP on :" << config.server.http_port << ", namespace "
            << config.kubernetes.namespace_ << ", cluster " << client->config().server << "\n";

  uint64_t trimmed_at = 0;  // work items queued when memory was last trimmed
  int sig = WaitForShutdownSignal(
      [&] {
        auto q = controller->queue().stats();
        if (q.depth > 0 || q.processing > 0 || q.adds < trimmed_at + 1000) return false;
        trimmed_at = q.adds;
        return true;
      },
      [&service] { service.LogConnectionSummary(); });
  std::cerr << "iarnet-k8s-provider: signal " << sig << ", draining\n";
  ready = false;
  server->GetHealthCheckService()->SetServingStatus(false);
  // In-flight calls get the grace period to finish; new ones are refused. REST stops
  // taking connections and drops idle and half-sent ones now, and has the same deadline.
  auto grace_end = std::chrono::steady_clock::now() + config.server.shutdown_grace;
  if (rest) rest->BeginShutdown();
  server->Shutdown(std::chrono::system_clock::now() + config.server.shutdown_grace);
  if (rest) rest->Stop(grace_end);
  shutting_down = true;
  // The workers stop before the lease is released, so two leaders never overlap.
  controller->Stop();
  if (elector) elector->Stop();
  caches->Stop();
  client->Shutdown();
  return 0;
}
