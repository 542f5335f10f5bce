#include "cmd/snapshot_table.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "base/string_util.h"

namespace stash::cli {
namespace {

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '\n') out.emplace_back();
    else out.back().push_back(c);
  }
  return out;
}

// One row of cells, each padded to its column, lines trimmed at the right
// (restic's internal/ui/table).
void PrintRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::vector<std::vector<std::string>> fields;
  size_t height = 1;
  for (const auto& c : cells) height = std::max(height, fields.emplace_back(Lines(c)).size());
  for (size_t line = 0; line < height; ++line) {
    std::string s;
    for (size_t f = 0; f < fields.size(); ++f) {
      std::string v = line < fields[f].size() ? fields[f][line] : "";
      if (v.size() < widths[f]) v.append(widths[f] - v.size(), ' ');
      if (f) s += "  ";
      s += v;
    }
    s.erase(s.find_last_not_of(' ') + 1);
    std::printf("%s\n", s.c_str());
  }
}

// rows[0] is the header. Columns are as wide as their widest line, with a
// dashed rule under the header and under the last row.
void PrintRows(const std::vector<std::vector<std::string>>& rows, bool blank_between_rows) {
  std::vector<size_t> widths(rows[0].size());
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      for (const auto& l : Lines(row[c])) widths[c] = std::max(widths[c], l.size());
    }
  }
  size_t total = 2 * (widths.size() - 1);
  for (size_t w : widths) total += w;
  const std::string rule(total, '-');
  for (size_t r = 0; r < rows.size(); ++r) {
    if (blank_between_rows && r > 1) std::printf("\n");
    PrintRow(rows[r], widths);
    if (r == 0) std::printf("%s\n", rule.c_str());
  }
  std::printf("%s\n%zu snapshots\n", rule.c_str(), rows.size() - 1);
}

// Go's "-0700" zone format.
std::string NumericZone(int32_t offset) {
  char buf[16];
  int32_t a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return buf;
}

}  // namespace

void PrintSnapshotTable(std::vector<SnapshotEntry> list, const std::vector<KeepReason>* reasons,
                        bool compact) {
  std::map<Id, const KeepReason*> why;
  if (reasons) {
    for (const auto& r : *reasons) why[r.snapshot.first] = &r;
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.second.time < b.second.time; });
  const bool with_reasons = !compact && reasons && !reasons->empty();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "Time", compact ? "Host" : "Host      ", compact ? "Tags  " : "Tags      "}};
  if (with_reasons) rows[0].push_back("Reasons");
  if (!compact) rows[0].push_back("Paths");
  bool multiline = false;
  for (const auto& [sid, s] : list) {
    std::vector<std::string> row = {sid.Short(),
                                    FormatTableTime(Timestamp::Local(s.time.seconds, s.time.nanos)),
                                    s.hostname, JoinStrings(s.tags, compact ? "\n" : ",")};
    if (with_reasons) row.push_back(why.count(sid) ? JoinStrings(why[sid]->matches, "\n") : "");
    if (!compact) row.push_back(JoinStrings(s.paths, "\n"));
    rows.push_back(std::move(row));
    multiline = multiline || (s.paths.size() > 1 && !compact);
  }
  PrintRows(rows, multiline);
}

void PrintSnapshotGroupHeader(const SnapshotGroup& g) {
  std::vector<std::string> info;
  if (!g.hostname.empty()) info.push_back("host [" + g.hostname + "]");
  if (g.tags) info.push_back("tags [" + JoinStrings(*g.tags, ", ") + "]");
  if (g.paths) info.push_back("paths [" + JoinStrings(*g.paths, ", ") + "]");
  if (!info.empty()) std::printf("snapshots for (%s):\n", JoinStrings(info, ", ").c_str());
}

std::string GoTimeString(const Timestamp& t) {
  std::string out = FormatTableTime(t);
  if (t.nanos) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09u", t.nanos);
    std::string f = frac;
    f.erase(f.find_last_not_of('0') + 1);
    out += f;
  }
  out += " " + NumericZone(t.utc_offset) + " ";
  // Go decodes "Z" as UTC; another offset becomes the Local zone when that
  // is Local's offset at the instant, else a zone named by its offset.
  if (t.utc_offset == 0) return out + "UTC";
  time_t tt = static_cast<time_t>(t.seconds);
  struct tm tm;
  if (localtime_r(&tt, &tm) != nullptr && tm.tm_gmtoff == t.utc_offset && tm.tm_zone) {
    return out + tm.tm_zone;
  }
  return out + NumericZone(t.utc_offset);
}

}  // namespace stash::cli
