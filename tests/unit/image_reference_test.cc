#include "api/image_reference.h"

#include <catch2/catch.hpp>
#include <regex>
#include <string>

using iarnet::ImageReferenceProblem;

namespace {

const char* const kValid[] = {
    "busybox",
    "busybox:1.36",
    "iarnet/component:python_3.11-latest",
    "iarnet.local/testbox:1",
    "registry.k8s.io/pause:3.10",
    "localhost:5000/team/app",
    "localhost/app:v1",
    "Registry.Example.COM/app",
    "[::1]:5000/app:tag",
    "a.b-c__d---e/f_g:TAG_1.2-3",
    "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "quay.io/org/app:1@sha256:0123456789abcdef0123456789abcdef",
    "host:1/app",
};

const char* const kInvalid[] = {
    "",
    "image with spaces",
    "$(touch x)",
    "a; touch x",
    "img|cat",
    "img\nnext",
    " leading-space:1",
    "trailing-space:1 ",
    "UPPER",
    "app:",
    "app:-tag",
    "app:.tag",
    "/app",
    "app/",
    "app//x",
    "a..b",
    "a_-b",
    "-app",
    "app@sha256:short",
    "app@:0123456789abcdef0123456789abcdef",
    "app@sha256",
    "host:port/app",
    "[zz]/app",
    "ex-.com/app",
    "a:b:c",
};

std::string Long(size_t n) { return std::string(n, 'a'); }

}  // namespace

TEST_CASE("image reference: the distribution grammar's references are accepted") {
  for (const char* ref : kValid) {
    INFO(ref);
    CHECK_FALSE(ImageReferenceProblem(ref).has_value());
  }
  CHECK_FALSE(ImageReferenceProblem("app:" + Long(128)));
  CHECK_FALSE(ImageReferenceProblem(Long(255)));
}

TEST_CASE("image reference: everything else is refused with a reason") {
  for (const char* ref : kInvalid) {
    INFO(ref);
    auto problem = ImageReferenceProblem(ref);
    REQUIRE(problem.has_value());
    CHECK_FALSE(problem->empty());
  }
  CHECK(ImageReferenceProblem("app:" + Long(129)).has_value());
  CHECK(*ImageReferenceProblem(Long(256)) == "the repository name is longer than 255 characters");
  CHECK(ImageReferenceProblem(std::string("ap\0p", 4)).has_value());
}

TEST_CASE("image reference: the CRD's pattern agrees with the parser") {
  std::regex pattern(iarnet::kImageReferencePattern);
  for (const char* ref : kValid) {
    INFO(ref);
    CHECK(std::regex_match(ref, pattern));
  }
  for (const char* ref : kInvalid) {
    INFO(ref);
    CHECK_FALSE(std::regex_match(ref, pattern));
  }
}
