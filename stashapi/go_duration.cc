#include "stashapi/go_duration.h"

#include <algorithm>
#include <utility>

namespace stash {
namespace {

constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |min int64|

struct Unit {
  std::string_view name;
  uint64_t nanos;
};
constexpr Unit kUnits[] = {{"ns", 1},           {"us", 1000},        {"\xC2\xB5s", 1000},
                           {"\xCE\xBCs", 1000}, {"ms", 1000000},     {"s", 1000000000},
                           {"m", 60000000000},  {"h", 3600000000000}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Error Bad(std::string_view text, const std::string& why) {
  return Invalid("invalid duration \"" + std::string(text) + "\": " + why);
}

// Go's leadingInt: digits into `v`; false on overflow.
bool LeadingInt(std::string_view& s, uint64_t& v) {
  size_t i = 0;
  v = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (v > (kMaxMagnitude - 1) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > kMaxMagnitude) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Go's leadingFraction: digits after the point; digits beyond what fits are
// read but ignored, as Go does.
void LeadingFraction(std::string_view& s, uint64_t& f, double& scale) {
  size_t i = 0;
  bool overflow = false;
  f = 0;
  scale = 1;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (overflow) continue;
    if (f > (kMaxMagnitude - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = f * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > kMaxMagnitude) {
      overflow = true;
      continue;
    }
    f = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

// One "<number><unit>" term; adds its nanoseconds to `total`.
Status Term(std::string_view orig, std::string_view& s, uint64_t& total) {
  if (!(s[0] == '.' || IsDigit(s[0]))) return Bad(orig, "expected a number");
  size_t before = s.size();
  uint64_t v = 0, f = 0;
  double scale = 1;
  if (!LeadingInt(s, v)) return Bad(orig, "overflow");
  bool pre = before != s.size();
  bool post = false;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    size_t at = s.size();
    LeadingFraction(s, f, scale);
    post = at != s.size();
  }
  if (!pre && !post) return Bad(orig, "expected a number");
  size_t i = 0;
  while (i < s.size() && s[i] != '.' && !IsDigit(s[i])) ++i;
  if (i == 0) return Bad(orig, "missing unit");
  std::string_view name = s.substr(0, i);
  s.remove_prefix(i);
  auto unit = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const Unit& u) { return u.name == name; });
  if (unit == std::end(kUnits)) return Bad(orig, "unknown unit \"" + std::string(name) + "\"");
  if (v > kMaxMagnitude / unit->nanos) return Bad(orig, "overflow");
  v *= unit->nanos;
  if (f > 0) {
    v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit->nanos) / scale));
    if (v > kMaxMagnitude) return Bad(orig, "overflow");
  }
  total += v;
  if (total > kMaxMagnitude) return Bad(orig, "overflow");
  return Status::Ok();
}

// Go's fmtFrac: the fraction of v / 10^prec without trailing zeros, written
// backwards into `out`; returns v / 10^prec.
uint64_t FracBackwards(std::string& out, uint64_t v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) out += static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print) out += '.';
  return v;
}

void IntBackwards(std::string& out, uint64_t v) {
  do {
    out += static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
}

}  // namespace

Result<int64_t> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return Bad(text, "empty");
  uint64_t total = 0;
  while (!s.empty()) STASH_RETURN_IF_ERROR(Term(text, s, total));
  if (negative) return total == 0 ? int64_t{0} : -static_cast<int64_t>(total - 1) - 1;
  if (total > kMaxMagnitude - 1) return Bad(text, "overflow");
  return static_cast<int64_t>(total);
}

std::string FormatGoDuration(int64_t nanoseconds) {
  bool negative = nanoseconds < 0;
  uint64_t u = negative ? static_cast<uint64_t>(0) - static_cast<uint64_t>(nanoseconds)
                        : static_cast<uint64_t>(nanoseconds);
  std::string out;  // built backwards, then reversed
  out += 's';
  if (u == 0) return "0s";
  if (u < 1000000000) {
    int prec = 0;
    if (u < 1000) {
      out += 'n';
    } else if (u < 1000000) {
      prec = 3;
      out += "\xB5\xC2";  // 'µ' (U+00B5), reversed with the rest
    } else {
      prec = 6;
      out += 'm';
    }
    IntBackwards(out, FracBackwards(out, u, prec));
  } else {
    u = FracBackwards(out, u, 9);
    IntBackwards(out, u % 60);
    u /= 60;
    if (u > 0) {
      out += 'm';
      IntBackwards(out, u % 60);
      u /= 60;
      if (u > 0) {
        out += 'h';
        IntBackwards(out, u);
      }
    }
  }
  if (negative) out += '-';
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace stash
