# The README's two commands, and a few helpers. The work is in hack/ and CMake.
.PHONY: run test unit build build-test image deps cluster-up cluster-down format bench clean

BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-test
CONFIG ?= examples/config.yaml

# Install, build, start the local cluster unless a kubeconfig is configured, install the
# CRDs, and run the provider on :50052.
run: deps
	BUILD_TARGET="iarnet-k8s-provider iarnet-cli" hack/build.sh "$(BUILD_DIR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	hack/run.sh "$(BUILD_DIR)/grpc-gateway/iarnet-k8s-provider" "$(CONFIG)"

# Install, build with sanitizers, start a fresh local cluster, run every unit and
# integration test, stop the cluster.
test: deps
	hack/test.sh "$(TEST_BUILD_DIR)"

# Every unit test (pure code and static checks) with sanitizers: no cluster, no root.
unit:
	hack/install-deps.sh --no-cluster
	hack/unit.sh "$(TEST_BUILD_DIR)"

deps:
	hack/install-deps.sh

# The provider's container image from the Dockerfile (buildah, no Docker engine); prints
# the oci-archive, which `hack/local-cluster.sh load-image` or a registry tool takes.
image: deps
	hack/build-image.sh

build:
	hack/build.sh "$(BUILD_DIR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo

build-test:
	hack/build.sh "$(TEST_BUILD_DIR)" -DCMAKE_BUILD_TYPE=Debug -DIARNET_SANITIZE=ON -DIARNET_BUILD_TESTS=ON

# Benchmarks on a cluster of their own; reports land in bench/.
bench: deps
	hack/bench.sh "$(BUILD_DIR)-bench"

cluster-up:
	hack/local-cluster.sh up

cluster-down:
	hack/local-cluster.sh down

format:
	git ls-files --cached --others --exclude-standard '*.cc' '*.h' | xargs -r clang-format -i

clean:
	rm -rf "$(BUILD_DIR)" "$(TEST_BUILD_DIR)"
