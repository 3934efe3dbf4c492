// `carbonclock run` on a real terminal: the binary runs on a pseudo-terminal and everything it
// and its job write is fed into libvterm, a terminal emulator, whose screen the test reads.
// The status line must keep to its own row: the job's lines appear whole, never glued to it.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vterm.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_test_harness.h"
#include "execution/test_proc.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
constexpr int kRows = 40;
constexpr int kCols = 100;

/// The text of one screen row, trailing blanks removed.
std::string row_text(VTermScreen* screen, int row) {
  std::vector<char> buf(kCols * 4 + 1, '\0');
  VTermRect rect{row, row + 1, 0, kCols};
  size_t n = vterm_screen_get_text(screen, buf.data(), buf.size() - 1, rect);
  std::string s(buf.data(), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::vector<std::string> screen_rows(VTermScreen* screen) {
  std::vector<std::string> rows;
  for (int r = 0; r < kRows; ++r) rows.push_back(row_text(screen, r));
  return rows;
}

std::string dump(const std::vector<std::string>& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) out += fmt::format("{:2}|{}\n", i, rows[i]);
  return out;
}

TEST(TerminalTest, TheStatusLineKeepsToItsOwnRowAndTheJobsLinesStayWhole) {
  auto dir = fresh_test_dir("cc_tty");
  fs::create_directories(dir / "sysfs");
  winsize ws{};
  ws.ws_row = kRows;
  ws.ws_col = kCols;
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, &ws), 0);
  std::string out_dir = (dir / "run").string();
  std::string db = (dir / "absent.db").string();
  std::string sysfs = (dir / "sysfs").string();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The terminal's session leader, as a login shell would start it.
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    ::close(master);
    ::close(slave);
    ::setenv("CARBONCLOCK_DB", db.c_str(), 1);
    ::setenv("CARBONCLOCK_SYSFS_ROOT", sysfs.c_str(), 1);
    ::setenv("TERM", "xterm", 1);
    // The job writes lines while the status line is drawn (at most once a second).
    const char* argv[] = {CliHarness::kBinary,
                          "run",
                          "--no-gpu",
                          "--interval",
                          "50ms",
                          "--out",
                          out_dir.c_str(),
                          "--",
                          "sh",
                          "-c",
                          "sleep 1.5; echo '[train] epoch 1'; sleep 1.5; echo '[train] epoch 2'; "
                          "sleep 1.2",
                          nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(99);
  }
  ::close(slave);

  std::unique_ptr<VTerm, void (*)(VTerm*)> vt(vterm_new(kRows, kCols), vterm_free);
  vterm_set_utf8(vt.get(), 1);
  VTermScreen* screen = vterm_obtain_screen(vt.get());
  vterm_screen_reset(screen, 1);

  bool status_seen = false;
  std::string glued;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (std::chrono::steady_clock::now() > give_up) break;  // never hang the suite
    if (::poll(&p, 1, 200) <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: the last writer closed the terminal
    vterm_input_write(vt.get(), buf, static_cast<size_t>(n));
    auto rows = screen_rows(screen);
    status_seen |= rows[kRows - 1].starts_with("[carbonclock] ");
    for (const auto& r : rows) {
      if (r.find("[carbonclock]") != std::string::npos && r.find("[train]") != std::string::npos) {
        glued = r;
      }
    }
  }
  ::kill(pid, SIGKILL);  // no-op when it ended
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  auto rows = screen_rows(screen);
  fs::remove_all(dir);

  ASSERT_TRUE(WIFEXITED(status)) << dump(rows);
  EXPECT_EQ(WEXITSTATUS(status), 0) << dump(rows);
  EXPECT_TRUE(status_seen) << "no status line on the last row\n" << dump(rows);
  EXPECT_EQ(glued, "") << dump(rows);
  int epoch1 = 0, epoch2 = 0, status_rows = 0;
  for (const auto& r : rows) {
    epoch1 += r == "[train] epoch 1";
    epoch2 += r == "[train] epoch 2";
    status_rows += r.find("[carbonclock]") != std::string::npos;
  }
  EXPECT_EQ(epoch1, 1) << dump(rows);
  EXPECT_EQ(epoch2, 1) << dump(rows);
  EXPECT_EQ(status_rows, 0) << "the status line was not cleared at the end\n" << dump(rows);
}

/// Reads one line ("stopped 20", "exit 0") from `fd` while draining the terminal `master`, at
/// most until `until`; "" on timeout.
std::string read_report(int fd, int master, std::chrono::steady_clock::time_point until) {
  std::string line;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p[2] = {{fd, POLLIN, 0}, {master, POLLIN, 0}};
    if (::poll(p, 2, 100) <= 0) continue;
    if (p[1].revents & POLLIN) (void)!::read(master, buf, sizeof buf);
    if (p[0].revents & (POLLIN | POLLHUP)) {
      char c;
      if (::read(fd, &c, 1) != 1) return line;
      if (c == '\n') return line;
      line.push_back(c);
    }
  }
  return "";
}

TEST(TerminalTest, CtrlZStopsCarbonclockWithItsJobAndFgContinuesBoth) {
  // A tiny shell on the terminal: it runs carbonclock as a foreground job in its own process
  // group, reports when it stops (waitpid WUNTRACED) and, when told, continues it as `fg` does.
  auto dir = fresh_test_dir("cc_tty_z");
  fs::create_directories(dir / "sysfs");
  std::string pid_file = (dir / "job.pid").string();
  std::string out_dir = (dir / "run").string();
  std::string db = (dir / "absent.db").string();
  std::string sysfs = (dir / "sysfs").string();
  winsize ws{};
  ws.ws_row = kRows;
  ws.ws_col = kCols;
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, &ws), 0);
  int report[2], control[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(control, O_CLOEXEC), 0);
  pid_t shell = ::fork();
  if (shell == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    ::close(master);
    ::close(slave);
    ::signal(SIGTTOU, SIG_IGN);  // as shells do, to take the terminal back
    ::setenv("CARBONCLOCK_DB", db.c_str(), 1);
    ::setenv("CARBONCLOCK_SYSFS_ROOT", sysfs.c_str(), 1);
    std::string job = fmt::format("echo $$ > {}; sleep 2; echo done", pid_file);
    pid_t cc = ::fork();
    if (cc == 0) {
      ::setpgid(0, 0);
      ::signal(SIGTTOU, SIG_DFL);
      const char* argv[] = {CliHarness::kBinary, "run",  "--no-gpu", "--out",
                            out_dir.c_str(),     "--",   "sh",       "-c",
                            job.c_str(),         nullptr};
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(99);
    }
    ::setpgid(cc, cc);
    ::tcsetpgrp(0, cc);
    int st = 0;
    ::waitpid(cc, &st, WUNTRACED);
    std::string line =
        WIFSTOPPED(st) ? fmt::format("stopped {}\n", WSTOPSIG(st)) : fmt::format("ended {}\n", st);
    (void)!::write(report[1], line.data(), line.size());
    if (WIFSTOPPED(st)) {
      char c;
      (void)!::read(control[0], &c, 1);
      ::tcsetpgrp(0, cc);  // fg
      ::kill(-cc, SIGCONT);
      ::waitpid(cc, &st, 0);
      line = fmt::format("exit {}\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
      (void)!::write(report[1], line.data(), line.size());
    }
    ::_exit(0);
  }
  ::close(slave);
  ::close(report[1]);
  ::close(control[0]);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);

  // The job started and holds the terminal's foreground (carbonclock handed it over).
  pid_t job = -1;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) (void)!::read(master, buf, sizeof buf);
    std::ifstream f(pid_file);
    pid_t fg = -1;
    if ((f >> job) && ::ioctl(master, TIOCGPGRP, &fg) == 0 && fg == job) break;
    job = -1;
  }
  ASSERT_GT(job, 0) << "the job never got the terminal's foreground";

  (void)!::write(master, "\x1a", 1);  // Ctrl-Z
  std::string stopped = read_report(report[0], master, until);
  EXPECT_EQ(stopped, fmt::format("stopped {}", SIGTSTP)) << "carbonclock did not stop with its job";
  EXPECT_EQ(test::proc_state(job), 'T');

  (void)!::write(control[1], "c", 1);  // fg
  std::string ended = read_report(report[0], master, until);
  EXPECT_EQ(ended, "exit 0");
  if (ended.empty()) {  // never leave anything behind: carbonclock (the job's parent), the job
    std::ifstream stat("/proc/" + std::to_string(job) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');
    if (close != std::string::npos && close + 4 < text.size()) {
      ::kill(std::atoi(text.c_str() + close + 4), SIGKILL);
    }
    ::kill(-job, SIGKILL);
    ::kill(-job, SIGCONT);
  }
  ::kill(shell, SIGKILL);
  ::waitpid(shell, nullptr, 0);
  ::close(master);
  ::close(report[0]);
  ::close(control[1]);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace carbonclock
