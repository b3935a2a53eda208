// The client's verbs and errors against the real local API server.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kube/error.h"
#include "tests/support/support.h"

using kube::json;
using namespace kube;
using testing::TestNamespace;

namespace {

const ResourceType kWorkloads{"iarnet.io", "v1alpha1", "iarnetworkloads", "IarnetWorkload", true};

// A client that reaches the same server, authenticating with `token` (or a token file).
ClusterConfig TokenConfig(const std::string& token, const std::string& token_file = "") {
  ClusterConfig admin = LoadKubeconfig(testing::Env("KUBECONFIG"));
  ClusterConfig c;
  c.server = admin.server;
  c.ca_pem = admin.ca_pem;
  c.token = token;
  c.token_file = token_file;
  c.source = "test";
  return c;
}

std::string CreateToken(Client& admin, const std::string& ns, const std::string& account,
                        const std::string& bound_secret = "") {
  try {
    admin.Create(
        resources::kServiceAccounts, ns,
        {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", account}}}});
  } catch (const Error& e) {
    if (!e.IsAlreadyExists()) throw;
  }
  json request = {{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenRequest"},
                  {"spec", {{"expirationSeconds", 3600}}}};
  if (!bound_secret.empty()) {
    json secret = admin.Create(
        ResourceType{"", "v1", "secrets", "Secret", true}, ns,
        {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", bound_secret}}}});
    request["spec"]["boundObjectRef"] = {{"kind", "Secret"},
                                         {"apiVersion", "v1"},
                                         {"name", bound_secret},
                                         {"uid", secret["metadata"]["uid"]}};
  }
  json answer = admin.CallSync(
      requests::CreateSubresource(resources::kServiceAccounts, ns, account, "token", request));
  return answer["status"]["token"];
}

std::string WhoAmI(Client& c) {
  json review =
      c.Create(resources::kSelfSubjectReviews, "",
               {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  return review["status"]["userInfo"]["username"];
}

Error ErrorFrom(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no kube::Error was thrown");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("get and create and update and delete with typed API errors") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json cm = c->Create(resources::kConfigMaps, ns, testing::ConfigMap("a", {{"k", "1"}}));
  CHECK(cm["metadata"]["name"] == "a");
  CHECK(c->Get(resources::kConfigMaps, ns, "a")["data"]["k"] == "1");

  cm["data"]["k"] = "2";
  json updated = c->Update(resources::kConfigMaps, ns, cm);
  CHECK(updated["data"]["k"] == "2");
  // The resourceVersion we sent is stale now: the update is refused as a Conflict.
  cm["data"]["k"] = "3";
  Error conflict = ErrorFrom([&] { c->Update(resources::kConfigMaps, ns, cm); });
  CHECK(conflict.IsConflict());
  CHECK(conflict.code() == 409);

  CHECK(ErrorFrom([&] {
          c->Create(resources::kConfigMaps, ns, testing::ConfigMap("a"));
        }).IsAlreadyExists());
  Error missing = ErrorFrom([&] { c->Get(resources::kConfigMaps, ns, "nope"); });
  CHECK(missing.IsNotFound());
  CHECK(missing.reason() == "NotFound");
  CHECK(std::string(missing.what()).find("configmaps \"nope\" not found") != std::string::npos);
  Error invalid =
      ErrorFrom([&] { c->Create(resources::kConfigMaps, ns, testing::ConfigMap("Bad_Name")); });
  CHECK(invalid.IsInvalid());

  c->Delete(resources::kConfigMaps, ns, "a");
  CHECK(ErrorFrom([&] { c->Get(resources::kConfigMaps, ns, "a"); }).IsNotFound());
}

TEST_CASE("list with label and field selectors and limit/continue paging") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  for (int i = 0; i < 25; ++i) {
    c->Create(
        resources::kConfigMaps, ns,
        testing::ConfigMap("cm-" + std::to_string(i), {}, {{"batch", i % 2 ? "odd" : "even"}}));
  }
  ListOptions page;
  page.label_selector = "batch";
  page.limit = 10;
  json first = c->List(resources::kConfigMaps, ns, page);
  CHECK(first["items"].size() == 10);
  CHECK_FALSE(first["metadata"].value("continue", "").empty());
  CHECK(c->ListAll(resources::kConfigMaps, ns, page)["items"].size() == 25);

  ListOptions odd;
  odd.label_selector = "batch=odd";
  odd.limit = 4;
  CHECK(c->ListAll(resources::kConfigMaps, ns, odd)["items"].size() == 12);

  ListOptions by_name;
  by_name.field_selector = "metadata.name=cm-3";
  json one = c->List(resources::kConfigMaps, ns, by_name);
  REQUIRE(one["items"].size() == 1);
  CHECK(one["items"][0]["metadata"]["name"] == "cm-3");
}

TEST_CASE("delete with uid and resourceVersion preconditions and propagation policy") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json owner = c->Create(resources::kConfigMaps, ns, testing::ConfigMap("owner"));
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  CHECK(ErrorFrom([&] { c->Delete(resources::kConfigMaps, ns, "owner", wrong_uid); }).IsConflict());
  DeleteOptions wrong_rv;
  wrong_rv.precondition_resource_version = "1";
  CHECK(ErrorFrom([&] { c->Delete(resources::kConfigMaps, ns, "owner", wrong_rv); }).IsConflict());

  json dependent = testing::ConfigMap("dependent");
  dependent["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "v1"},
                                                           {"kind", "ConfigMap"},
                                                           {"name", "owner"},
                                                           {"uid", owner["metadata"]["uid"]}}});
  c->Create(resources::kConfigMaps, ns, dependent);
  // Orphan: the owner goes, the dependent stays and loses its owner reference.
  DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  orphan.precondition_uid = owner["metadata"]["uid"];
  c->Delete(resources::kConfigMaps, ns, "owner", orphan);
  CHECK(testing::Eventually([&] {
    try {
      c->Get(resources::kConfigMaps, ns, "owner");
      return false;
    } catch (const Error& e) {
      return e.IsNotFound();
    }
  }));
  json left = c->Get(resources::kConfigMaps, ns, "dependent");
  CHECK_FALSE(left["metadata"].contains("ownerReferences"));
}

TEST_CASE("server-side apply and merge patch and JSON patch on a CRD with a status subresource") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json w = {{"apiVersion", "iarnet.io/v1alpha1"},
            {"kind", "IarnetWorkload"},
            {"metadata", {{"name", "w"}}},
            {"spec",
             {{"instanceId", "comp.a"},
              {"language", "python"},
              {"resources", {{"cpu", 100}, {"memory", 1000}}}}}};
  PatchOptions alice;
  alice.field_manager = "alice";
  json applied = c->Patch(kWorkloads, ns, "w", PatchType::kApply, w, alice);
  CHECK(applied["spec"]["resources"]["cpu"] == 100);
  w["spec"]["resources"]["cpu"] = 200;
  CHECK(c->Patch(kWorkloads, ns, "w", PatchType::kApply, w, alice)["spec"]["resources"]["cpu"] ==
        200);

  // Another manager may not take alice's field without force.
  PatchOptions bob;
  bob.field_manager = "bob";
  w["spec"]["resources"]["cpu"] = 300;
  Error conflict = ErrorFrom([&] { c->Patch(kWorkloads, ns, "w", PatchType::kApply, w, bob); });
  CHECK(conflict.IsConflict());
  CHECK(std::string(conflict.what()).find("conflict") != std::string::npos);
  bob.force = true;
  CHECK(c->Patch(kWorkloads, ns, "w", PatchType::kApply, w, bob)["spec"]["resources"]["cpu"] ==
        300);

  // Status through the subresource, by apply and by merge patch.
  PatchOptions status_apply;
  status_apply.field_manager = "operator";
  status_apply.subresource = "status";
  json status = {{"apiVersion", "iarnet.io/v1alpha1"},
                 {"kind", "IarnetWorkload"},
                 {"metadata", {{"name", "w"}}},
                 {"status", {{"phase", "Pending"}}}};
  CHECK(c->Patch(kWorkloads, ns, "w", PatchType::kApply, status, status_apply)["status"]["phase"] ==
        "Pending");
  PatchOptions status_merge;
  status_merge.subresource = "status";
  json admitted = c->Patch(
      kWorkloads, ns, "w", PatchType::kMerge,
      {{"status",
        {{"phase", "Admitted"}, {"admission", {{"cpu", 300}, {"memory", 1000}, {"gpu", 0}}}}}},
      status_merge);
  CHECK(admitted["status"]["phase"] == "Admitted");
  // Status written on the main resource is ignored.
  c->Patch(kWorkloads, ns, "w", PatchType::kMerge, {{"status", {{"phase", "Failed"}}}});
  CHECK(c->Get(kWorkloads, ns, "w")["status"]["phase"] == "Admitted");

  // JSON patch; and the CRD's CEL rule: resources are fixed once admitted.
  json ops =
      json::array({{{"op", "replace"}, {"path", "/spec/resources/memory"}, {"value", 2000}}});
  Error frozen = ErrorFrom([&] { c->Patch(kWorkloads, ns, "w", PatchType::kJson, ops); });
  CHECK(frozen.IsInvalid());
  CHECK(std::string(frozen.what()).find("cannot change once the workload is admitted") !=
        std::string::npos);
  json label =
      json::array({{{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"x", "y"}}}}});
  CHECK(c->Patch(kWorkloads, ns, "w", PatchType::kJson, label)["metadata"]["labels"]["x"] == "y");
}

TEST_CASE(
    "transport failures are typed: bad CA and rejected client certificate and unreachable and "
    "403") {
  ClusterConfig admin = LoadKubeconfig(testing::Env("KUBECONFIG"));
  const std::string pki = testing::Env("IARNET_CLUSTER_DIR") + "/pki";

  ClusterConfig bad_ca = admin;
  bad_ca.ca_pem = ReadFileOrThrow(pki + "/front-proxy-ca.crt");  // a CA, but not the server's
  Client c1(bad_ca);
  Error tls = ErrorFrom([&] { c1.Get(resources::kNamespaces, "", "default"); });
  CHECK(tls.kind() == ErrorKind::kTls);
  CHECK(std::string(tls.what()).find("certificate verify failed") != std::string::npos);

  // A client certificate from a CA the server does not know.
  auto dir = std::filesystem::temp_directory_path() / ("stranger-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  REQUIRE(testing::Shell(
              "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=stranger -keyout " +
              (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() + " 2>/dev/null") ==
          0);
  ClusterConfig stranger = admin;
  stranger.client_cert_pem = ReadFileOrThrow((dir / "c.pem").string());
  stranger.client_key_pem = ReadFileOrThrow((dir / "k.pem").string());
  std::filesystem::remove_all(dir);
  Client c2(stranger);
  // The API server asks for client certificates without requiring them, so the TLS
  // session stands and authentication refuses the request.
  Error rejected = ErrorFrom([&] { c2.Get(resources::kNamespaces, "", "default"); });
  CHECK(rejected.IsUnauthorized());
  CHECK(std::string(rejected.what()).find("the server refused the client certificate") !=
        std::string::npos);

  ClusterConfig nowhere = admin;
  nowhere.server = "https://127.0.0.1:1";
  Client c3(nowhere);
  Error refused = ErrorFrom([&] { c3.Get(resources::kNamespaces, "", "default"); });
  CHECK(refused.kind() == ErrorKind::kConnect);
  CHECK(refused.IsTransient());

  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Client nobody(TokenConfig(CreateToken(*c, ns, "nobody")));
  Error forbidden = ErrorFrom([&] { nobody.List(resources::kPods, ns); });
  CHECK(forbidden.IsForbidden());
  CHECK(std::string(forbidden.what()).find("cannot list resource \"pods\"") != std::string::npos);
  Client garbage(TokenConfig("not-a-token"));
  CHECK(ErrorFrom([&] { garbage.List(resources::kPods, ns); }).IsUnauthorized());

  ClusterConfig http = admin;
  http.server = "http://127.0.0.1:1";
  CHECK_THROWS_AS(Client(http), Error);
}

TEST_CASE("a token file replaced mid-run keeps working") {
  auto admin = testing::AdminClient();
  TestNamespace ns(*admin);
  std::string first = CreateToken(*admin, ns, "first", "first-binding");
  std::string second = CreateToken(*admin, ns, "second");
  auto dir = std::filesystem::temp_directory_path() / ("token-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "token";
  auto write_atomically = [&](const std::string& token) {
    std::ofstream(dir / "token.new") << token << "\n";
    std::filesystem::rename(dir / "token.new", file);
  };
  write_atomically(first);
  Client c(TokenConfig("", file.string()));
  CHECK(WhoAmI(c) == "system:serviceaccount:" + ns.name() + ":first");

  write_atomically(second);
  // The first token dies with the object it is bound to.
  admin->Delete(ResourceType{"", "v1", "secrets", "Secret", true}, ns, "first-binding");
  REQUIRE(testing::Eventually([&] {
    Client stale(TokenConfig(first));
    try {
      WhoAmI(stale);
      return false;
    } catch (const Error& e) {
      return e.IsUnauthorized();
    }
  }));
  CHECK(WhoAmI(c) == "system:serviceaccount:" + ns.name() + ":second");
  std::filesystem::remove_all(dir);
}

TEST_CASE("keep-alive reuse and bounded concurrency") {
  TransportOptions o;
  o.max_connections = 4;
  auto c = testing::AdminClient(o);
  for (int i = 0; i < 20; ++i) c->Get(resources::kNamespaces, "", "default");
  CHECK(c->transport().stats().connections_opened == 1);

  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        c->List(resources::kNamespaces, "");
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 96);
  auto s = c->transport().stats();
  CHECK(s.peak_in_flight <= 4);
  CHECK(s.peak_in_flight >= 2);
  CHECK(s.connections_opened <= 4);
  CHECK(s.requests == 116);
}

TEST_CASE("client-side QPS limit") {
  TransportOptions o;
  o.qps = 5;
  o.burst = 1;
  auto c = testing::AdminClient(o);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) c->Get(resources::kNamespaces, "", "default");
  // 1 from the burst, then 5 more at 5/s: at least a second.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(950));
}
