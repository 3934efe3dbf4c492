// The status line on a scripted terminal: every escape sequence is worked out by hand from
// the VT100 manual (DECSTBM sets the scrolling region, ESC 7 / ESC 8 save and restore the
// cursor, CSI row;col H moves it, CSI 2 K clears the row).
#include "cli/status_line.h"

#include <gtest/gtest.h>

namespace carbonclock::cli {
namespace {

class TerminalConsole final : public Console {
 public:
  void out(std::string_view text) override { out_ += text; }
  void err(std::string_view text) override { writes.emplace_back(text); }
  bool err_is_terminal() const override { return size.has_value(); }
  std::optional<TerminalSize> err_terminal_size() const override { return size; }
  std::optional<TerminalSize> size = TerminalSize{24, 80};
  std::vector<std::string> writes;

 private:
  std::string out_;
};

TEST(StatusLineTest, FirstShowReservesTheLastRowThenDrawsThereWithoutMovingTheOutput) {
  TerminalConsole console;
  StatusLine line(console);
  line.show("[carbonclock] 3s  40 W  120 J");
  ASSERT_EQ(console.writes.size(), 1u);  // one write: never split by the job's output
  EXPECT_EQ(console.writes[0],
            "\n\0337\033[1;23r\0338\033[1A"                               // rows 1-23 scroll alone
            "\0337\033[24;1H\033[2K[carbonclock] 3s  40 W  120 J\0338");  // row 24, back again
  line.show("[carbonclock] 4s  41 W  161 J");
  ASSERT_EQ(console.writes.size(), 2u);
  EXPECT_EQ(console.writes[1], "\0337\033[24;1H\033[2K[carbonclock] 4s  41 W  161 J\0338");
}

TEST(StatusLineTest, RestoreClearsTheRowAndGivesTheWholeScreenBackOnce) {
  TerminalConsole console;
  {
    StatusLine line(console);
    line.show("x");
    line.restore();
    ASSERT_EQ(console.writes.size(), 2u);
    EXPECT_EQ(console.writes[1], "\0337\033[24;1H\033[2K\033[r\0338");
    line.restore();  // nothing reserved: nothing written
    EXPECT_EQ(console.writes.size(), 2u);
    line.show("y");  // reserves again
    EXPECT_TRUE(console.writes[2].starts_with("\n\0337\033[1;23r"));
  }
  // The destructor gives the terminal back.
  EXPECT_EQ(console.writes.back(), "\0337\033[24;1H\033[2K\033[r\0338");
}

TEST(StatusLineTest, TextIsCutToTheWidthWithoutControlBytesOrHalfCharacters) {
  TerminalConsole console;
  console.size = TerminalSize{5, 8};  // 7 cells usable: the last column is never written
  StatusLine line(console);
  line.show("ab\033[2Jc\xc3\xa9zzz");  // an escape from a job's name, then "é" across the cut
  ASSERT_EQ(console.writes.size(), 1u);
  // ESC becomes a space; "ab [2Jc" is 7 bytes, so the cut falls before "é", not inside it.
  EXPECT_TRUE(console.writes[0].ends_with("\0337\033[5;1H\033[2Kab [2Jc\0338"))
      << console.writes[0];
  console.size = TerminalSize{5, 10};
  line.show("abcdefg\xc3\xa9z");  // 9 usable: "abcdefg" + the two bytes of "é"
  EXPECT_TRUE(console.writes.back().ends_with("\033[2Kabcdefg\xc3\xa9\0338"))
      << console.writes.back();
}

TEST(StatusLineTest, AResizedTerminalGetsItsRegionSetAgain) {
  TerminalConsole console;
  StatusLine line(console);
  line.show("a");
  console.size = TerminalSize{30, 100};
  line.show("b");
  ASSERT_EQ(console.writes.size(), 2u);
  EXPECT_EQ(console.writes[1],
            "\0337\033[24;1H\033[2K\033[r\0338"  // the old region given back
            "\n\0337\033[1;29r\0338\033[1A"      // the new one
            "\0337\033[30;1H\033[2Kb\0338");
}

TEST(StatusLineTest, NothingIsDrawnOffATerminalOrOnOneRow) {
  TerminalConsole console;
  console.size = std::nullopt;
  StatusLine off(console);
  off.show("a");
  off.restore();
  EXPECT_TRUE(console.writes.empty());
  console.size = TerminalSize{1, 80};
  StatusLine tiny(console);
  tiny.show("a");
  EXPECT_TRUE(console.writes.empty());
}

}  // namespace
}  // namespace carbonclock::cli
