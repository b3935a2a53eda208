// Leader election between two processes over a real Lease.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "kube/error.h"
#include "kube/leader_election.h"
#include "tests/support/support.h"

using namespace kube;
using testing::TestNamespace;

extern char** environ;

namespace {

LeaderElector::Options Fast(const std::string& ns, const std::string& identity) {
  LeaderElector::Options o;
  o.lease_namespace = ns;
  o.lease_name = "leader";
  o.identity = identity;
  o.lease_duration = std::chrono::seconds(4);
  o.renew_deadline = std::chrono::seconds(3);
  o.retry_period = std::chrono::milliseconds(500);
  return o;
}

std::string Holder(Client& c, const std::string& ns) {
  try {
    return c.Get(resources::kLeases, ns, "leader")["spec"].value("holderIdentity", "");
  } catch (const Error&) {
    return "";
  }
}

}  // namespace

// The child process's side (see main.cc): lead until killed.
int RunElectorChild(const std::string& ns, const std::string& identity) {
  auto c = testing::AdminClient();
  LeaderElector e(c->config(), Fast(ns, identity));
  e.Start();
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

TEST_CASE(
    "leader election: exactly one leads and a killed leader is replaced within lease + retry") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  std::string self = "/proc/self/exe";
  std::vector<std::string> args = {"kube_integration_tests", "--elector-child", ns.name(), "child"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  REQUIRE(posix_spawn(&child, self.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
  REQUIRE(testing::Eventually([&] { return Holder(*c, ns) == "child"; }));

  int started = 0, stopped = 0;
  auto options = Fast(ns, "parent");
  options.on_started_leading = [&] { ++started; };
  options.on_stopped_leading = [&] { ++stopped; };
  LeaderElector parent(c->config(), options);
  parent.Start();
  std::this_thread::sleep_for(std::chrono::seconds(5));  // more than a lease: the child renews
  CHECK_FALSE(parent.IsLeader());
  CHECK(Holder(*c, ns) == "child");

  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  auto killed = std::chrono::steady_clock::now();
  REQUIRE(testing::Eventually([&] { return parent.IsLeader(); }, std::chrono::seconds(15)));
  auto takeover = std::chrono::steady_clock::now() - killed;
  // Lease duration (4 s) plus one retry period (0.5 s, jittered by up to 20%), plus slack
  // for the API calls on a loaded machine.
  CHECK(takeover <= std::chrono::milliseconds(4000 + 600 + 1500));
  CHECK(Holder(*c, ns) == "parent");
  CHECK(started == 1);
  json lease = c->Get(resources::kLeases, ns, "leader");
  CHECK(lease["spec"]["leaseTransitions"] == 1);

  // A clean stop releases the lease: a newcomer leads at once, not a lease later.
  parent.Stop();
  CHECK(stopped == 1);
  CHECK(Holder(*c, ns).empty());
  LeaderElector next(c->config(), Fast(ns, "next"));
  auto t0 = std::chrono::steady_clock::now();
  next.Start();
  REQUIRE(testing::Eventually([&] { return next.IsLeader(); }, std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  next.Stop();
}

TEST_CASE("leader election: two electors racing and exactly one wins") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  LeaderElector a(c->config(), Fast(ns, "a")), b(c->config(), Fast(ns, "b"));
  a.Start();
  b.Start();
  REQUIRE(testing::Eventually([&] { return a.IsLeader() || b.IsLeader(); }));
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE((a.IsLeader() && b.IsLeader()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::string holder = Holder(*c, ns);
  CHECK(holder == (a.IsLeader() ? "a" : "b"));
  a.Stop();
  b.Stop();
}

TEST_CASE("leader election: a leader whose API server stalls stops leading when its term ends") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  // A lease much longer than the renew deadline: the term (renew deadline from the last
  // renewal) must end well before anyone else could take the lease.
  auto options = Fast(ns, "stalled");
  options.lease_duration = std::chrono::seconds(12);
  std::atomic<int> stopped{0};
  options.on_stopped_leading = [&] { ++stopped; };
  LeaderElector e(c->config(), options);
  e.Start();
  REQUIRE(testing::Eventually([&] { return e.IsLeader(); }));

  // Frozen, the API server accepts connections but answers nothing: every renewal hangs.
  auto stalled_at = std::chrono::steady_clock::now();
  testing::PausedComponent paused("kube-apiserver");
  // The last renewal started before the stall, so the term is over 3 s after it at the
  // latest, whatever the elector's thread is doing: sleeping longer only makes it later.
  std::this_thread::sleep_until(stalled_at + options.renew_deadline +
                                std::chrono::milliseconds(100));
  CHECK_FALSE(e.IsLeader());
  // And the elector itself notices while its call still hangs (a call bounded only by the
  // 30 s request timeout would keep it inside for the whole lease and beyond).
  CHECK(testing::Eventually([&] { return stopped.load() == 1; }, std::chrono::seconds(8)));
  paused.Resume();
  // Back, it campaigns again and wins (the lease is still its own).
  CHECK(testing::Eventually([&] { return e.IsLeader(); }, std::chrono::seconds(30)));
  e.Stop();
}
