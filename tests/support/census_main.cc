// The census of tests/support/workload_census.h for shell tests: the invariants of a
// settled namespace, and its counts.
//   iarnet-census NAMESPACE PROVIDER CPU MEMORY GPU
// Prints each violation on a line of its own, then one line of counts:
//   admitted=N rejected=N ended=N pods=N charged_cpu=N ledger_cpu=N ledger_count=N
// and exits 0 when every invariant holds, 1 when one does not, 2 on bad arguments or
// when the cluster cannot be read.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "tests/support/support.h"
#include "tests/support/workload_census.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: iarnet-census NAMESPACE PROVIDER CPU MEMORY GPU\n";
    return 2;
  }
  try {
    const std::string ns = argv[1], provider = argv[2];
    iarnet::Resources capacity{std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5])};
    auto c = testing::AdminClient();
    auto violations = testing::Violations(*c, ns, capacity, {}, provider);
    for (const auto& v : violations) std::cout << v << "\n";
    testing::Census k = testing::Count(*c, ns, provider);
    std::cout << "admitted=" << k.admitted << " rejected=" << k.rejected << " ended=" << k.ended
              << " pods=" << k.pods << " charged_cpu=" << k.charged.cpu
              << " ledger_cpu=" << k.ledger_used.cpu << " ledger_count=" << k.ledger_count << "\n";
    return violations.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "iarnet-census: " << e.what() << "\n";
    return 2;
  }
}
