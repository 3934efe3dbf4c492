// carbonclock's entry point: the command line library over the process's edges.
#include "cli/cli.h"

int main(int argc, char** argv) {
  carbonclock::cli::StdConsole console;
  carbonclock::RealClock clock;
  auto env = carbonclock::cli::process_environment(console, clock);
  return carbonclock::cli::run_cli(argc, argv, env);
}
