#include "api/names.h"

#include <catch2/catch.hpp>
#include <set>

using namespace iarnet;

TEST_CASE("names: a workload name is a DNS label derived from the instance id") {
  std::string n = WorkloadNameFor("comp.AbC123xyz");
  CHECK(n.rfind("comp-abc123xyz-", 0) == 0);
  CHECK(n.size() == std::string("comp-abc123xyz-").size() + 8);
  CHECK(WorkloadNameFor("comp.AbC123xyz") == n);  // deterministic
  // Ids that sanitize alike stay apart.
  CHECK(WorkloadNameFor("comp.a") != WorkloadNameFor("comp-a"));
  CHECK(WorkloadNameFor("Comp.A") != WorkloadNameFor("comp.a"));
  // Long and hostile ids still give a valid name.
  for (std::string id : {std::string(253, 'x'), std::string("../../etc/passwd"), std::string("---"),
                         std::string("💥 rm -rf /"), std::string("a_b c")}) {
    std::string name = WorkloadNameFor(id);
    INFO(id << " -> " << name);
    CHECK(name.size() <= 63);
    CHECK(std::isalnum(static_cast<unsigned char>(name.front())));
    CHECK(std::isalnum(static_cast<unsigned char>(name.back())));
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos);
  }
}

TEST_CASE("names: label values keep valid ids and sanitize the rest") {
  CHECK(LabelValueFor("comp.2xKq9") == "comp.2xKq9");
  CHECK(LabelValueFor("provider.abc_DEF-1") == "provider.abc_DEF-1");
  std::string long_id(100, 'a');
  std::string v = LabelValueFor(long_id);
  CHECK(v.size() <= 63);
  CHECK(IsLabelValue(v));
  CHECK(LabelValueFor("a b") != LabelValueFor("a/b"));
  CHECK(IsLabelValue(LabelValueFor("a b")));
  CHECK(IsLabelValue(""));
  CHECK_FALSE(IsLabelValue("-a"));
  CHECK_FALSE(IsLabelValue("a b"));
  CHECK_FALSE(IsLabelValue(std::string(64, 'a')));
}

TEST_CASE("names: environment variable names as Kubernetes accepts them") {
  for (auto ok : {"COMPONENT_ID", "ZMQ_ADDR", "a.b-c", "_x", "X1"}) CHECK(IsEnvVarName(ok));
  for (auto bad : {"", "1X", "A B", "A=B", "a$b", "ä"}) CHECK_FALSE(IsEnvVarName(bad));
}
