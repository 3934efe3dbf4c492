// A job for the execution tests: does WORK_S seconds of "work" in 50 ms ticks, counting only
// time it actually ran (a gap over 200 ms between ticks means it was stopped), and appends the
// wall-clock time of every tick to OUT ("<unix seconds with ms>\n").
//   cc_test_ticker OUT WORK_S [--pid-file F] [--checkpoint F --pause-signal N
//                  [--checkpoint-delay S]] [--ignore N]
// With --checkpoint, a checkpoint file present at start holds the work already done; on signal N
// the work done is written there and the ticker exits 0 (a resumable job). --checkpoint-delay
// makes saving take S seconds, with F.saving present meanwhile. --ignore N ignores N.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile sig_atomic_t g_checkpoint = 0;
void on_signal(int) { g_checkpoint = 1; }

double mono_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double wall_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: cc_test_ticker OUT WORK_S [options]\n");
    return 2;
  }
  const char* out_path = argv[1];
  double work_s = std::atof(argv[2]);
  std::string pid_file, checkpoint;
  double checkpoint_delay_s = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string opt = argv[i];
    if (opt == "--pid-file") {
      pid_file = argv[i + 1];
    } else if (opt == "--checkpoint") {
      checkpoint = argv[i + 1];
    } else if (opt == "--pause-signal") {
      ::signal(std::atoi(argv[i + 1]), on_signal);
    } else if (opt == "--checkpoint-delay") {
      checkpoint_delay_s = std::atof(argv[i + 1]);
    } else if (opt == "--ignore") {
      ::signal(std::atoi(argv[i + 1]), SIG_IGN);
    }
  }
  if (!pid_file.empty()) {
    std::string tmp = pid_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
      std::fclose(f);
      std::rename(tmp.c_str(), pid_file.c_str());
    }
  }
  double done_s = 0;
  if (!checkpoint.empty()) {
    if (FILE* f = std::fopen(checkpoint.c_str(), "r")) {
      if (std::fscanf(f, "%lf", &done_s) != 1) done_s = 0;
      std::fclose(f);
    }
  }
  FILE* out = std::fopen(out_path, "a");
  if (out == nullptr) return 3;
  double last = mono_s();
  while (done_s < work_s) {
    if (g_checkpoint) {
      if (checkpoint_delay_s > 0) {
        std::string saving = checkpoint + ".saving";
        if (FILE* m = std::fopen(saving.c_str(), "w")) std::fclose(m);
        ::usleep(static_cast<useconds_t>(checkpoint_delay_s * 1e6));
      }
      FILE* f = std::fopen(checkpoint.c_str(), "w");
      if (f == nullptr) return 4;
      std::fprintf(f, "%.6f\n", done_s);
      std::fclose(f);
      return 0;
    }
    std::fprintf(out, "%.3f\n", wall_s());
    std::fflush(out);
    ::usleep(50'000);
    double now = mono_s();
    double dt = now - last;
    last = now;
    done_s += dt < 0.2 ? dt : 0.05;
  }
  std::fclose(out);
  return 0;
}
