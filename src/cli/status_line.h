// The run's status line on a terminal, kept on the terminal's last row. The rows above it are
// made a scrolling region of their own (DECSTBM, as apt's progress bar does), so nothing the
// job or carbonclock writes ever lands on the status line and the status line never lands in
// the middle of the job's output. Every redraw is one write, so it never interleaves with a
// line the job writes at the same moment.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cli/cli.h"

namespace carbonclock::cli {

class StatusLine {
 public:
  /// Draws on `console`'s stderr when it is a terminal of at least two rows.
  explicit StatusLine(Console& console);
  /// Gives the terminal back (restore()).
  ~StatusLine();
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  /// Shows `text` (cut to the terminal's width) on the last row, reserving it first, and
  /// again when the terminal's size changed. Thread-safe.
  void show(std::string_view text);
  /// Clears the status row and gives the whole screen back to scrolling; the cursor stays where
  /// the output left it. The next show() reserves the row again. Thread-safe.
  void restore();

  /// The escape sequences, for tests and for whoever must restore a terminal by hand.
  static std::string reserve_sequence(int rows);
  static std::string draw_sequence(int rows, int cols, std::string_view text);
  static std::string restore_sequence(int rows);

 private:
  Console& console_;
  std::mutex mu_;
  std::optional<TerminalSize> reserved_;  ///< the size the region was set for
};

}  // namespace carbonclock::cli
