// What a benchmark measures of its own process's memory.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>

namespace bench {

// Bytes malloc has handed out and not had back (after returning free pages).
inline size_t HeapInUse() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

// Resident set size in bytes.
inline size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * size_t(sysconf(_SC_PAGESIZE));
}

}  // namespace bench
