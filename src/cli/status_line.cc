#include "cli/status_line.h"

#include <fmt/format.h>

namespace carbonclock::cli {
namespace {

/// `text` cut to at most `width` bytes, never inside a UTF-8 sequence, without control bytes.
std::string fit(std::string_view text, int width) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    out.push_back(c);
  }
  if (width < 0) width = 0;
  if (out.size() > static_cast<size_t>(width)) {
    size_t cut = static_cast<size_t>(width);
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

StatusLine::StatusLine(Console& console) : console_(console) {}

StatusLine::~StatusLine() { restore(); }

std::string StatusLine::reserve_sequence(int rows) {
  // As apt does: a newline first makes room when the cursor is on the last row; after the
  // region is set (which homes the cursor), the cursor goes back and up into the region.
  return fmt::format("\n\0337\033[1;{}r\0338\033[1A", rows - 1);
}

std::string StatusLine::draw_sequence(int rows, int cols, std::string_view text) {
  // Save the cursor, draw on the last row, restore: the output's position is untouched. One
  // column is left free so that the last cell never triggers a wrap.
  return fmt::format("\0337\033[{};1H\033[2K{}\0338", rows, fit(text, cols - 1));
}

std::string StatusLine::restore_sequence(int rows) {
  return fmt::format("\0337\033[{};1H\033[2K\033[r\0338", rows);
}

void StatusLine::show(std::string_view text) {
  std::lock_guard lock(mu_);
  auto size = console_.err_terminal_size();
  if (!size || size->rows < 2 || size->cols < 2) return;
  std::string out;
  if (!reserved_ || reserved_->rows != size->rows || reserved_->cols != size->cols) {
    if (reserved_) out += restore_sequence(reserved_->rows);
    out += reserve_sequence(size->rows);
    reserved_ = size;
  }
  out += draw_sequence(size->rows, size->cols, text);
  console_.err(out);
}

void StatusLine::restore() {
  std::lock_guard lock(mu_);
  if (!reserved_) return;
  // The size it was set for: a terminal resized since keeps that region until reset.
  auto size = console_.err_terminal_size();
  int rows = size ? size->rows : reserved_->rows;
  console_.err(restore_sequence(rows));
  reserved_.reset();
}

}  // namespace carbonclock::cli
