#include "app/history.h"

#include "app/store_access.h"

namespace carbonclock {

Result<HistoryResult> list_history(const HistoryRequest& r, AppContext& ctx) {
  HistoryFilter filter;
  if (!r.since.empty()) {
    auto t = parse_utc(r.since);
    if (!t) return t.error().with_context("--since");
    filter.since = *t;
  }
  if (!r.until.empty()) {
    auto t = parse_utc(r.until);
    if (!t) return t.error().with_context("--until");
    filter.until = *t;
  }
  if (filter.since && filter.until && *filter.until <= *filter.since) {
    return make_error("--until {} is not after --since {}", r.until, r.since);
  }
  if (!r.tag.empty()) filter.tag = r.tag;
  HistoryResult out;
  auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  out.note = opened->note;
  if (GridStore* store = opened->get()) {
    auto listed = store->list_runs(filter);
    if (!listed) return listed.error();
    out.runs = std::move(*listed);
  }
  out.by_month = totals_by_month(out.runs);
  out.by_tag = totals_by_tag(out.runs);
  return out;
}

}  // namespace carbonclock
