// A short CPU- and memory-bound workload for the quick start: `carbonclock run --
// build/carbonclock-demo-workload 5` measures something real on any machine.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  std::vector<double> results(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<double> buf(1 << 20, 1.0);  // 8 MiB per thread
      double acc = 0;
      while (std::chrono::steady_clock::now() < until) {
        for (double& x : buf) acc += (x = x * 1.0000001 + 1e-9);
      }
      results[t] = acc;
    });
  }
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double r : results) sum += r;
  std::printf("demo workload: %u threads for %.1f s (checksum %.3g)\n", threads, seconds, sum);
  return 0;
}
