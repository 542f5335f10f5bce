// Go's time formatting and RFC 3339 parsing, re-implemented byte for byte
// (see go_time.h for why).
#include "base/go_time.h"

#include <time.h>

#include <cstdio>

namespace stash {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// ---------------------------------------------------------------------------
// Civil dates (proleptic Gregorian, as Go's time package uses), after Howard
// Hinnant's days_from_civil / civil_from_days. Valid far beyond +-10000 years.

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Days since 1970-01-01. An out-of-range day rolls over into the next month
// (Feb 29 of a common year is Mar 1), which is what Go's AddDate does too.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second;
};

// Splits seconds since the epoch, already shifted into the wanted offset.
CivilTime ToCivil(int64_t local_seconds) {
  const int64_t days = FloorDiv(local_seconds, kSecondsPerDay);
  const int64_t tod = local_seconds - days * kSecondsPerDay;
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(tod / 3600);
  c.minute = static_cast<int>(tod / 60 % 60);
  c.second = static_cast<int>(tod % 60);
  return c;
}

bool IsLeapYear(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Keeps nanos in 0..999,999,999 so callers may build sloppy timestamps.
Timestamp Normalized(Timestamp t) {
  if (t.nanos >= kNanosPerSecond) {
    t.seconds += t.nanos / kNanosPerSecond;
    t.nanos %= kNanosPerSecond;
  }
  return t;
}

// restic's FixTime: Go refuses to marshal years outside 0..9999, so restic
// moves such times into year 0 or 9999 (t.AddDate(-years, 0, 0)), keeping
// month, day and time of day in the time's own zone.
Timestamp ClampYear(const Timestamp& t) {
  const int64_t local = t.seconds + t.utc_offset;
  const CivilTime c = ToCivil(local);
  if (c.year >= 0 && c.year <= 9999) return t;
  const int64_t year = c.year < 0 ? 0 : 9999;
  const int64_t tod = c.hour * 3600 + c.minute * 60 + c.second;
  Timestamp fixed = t;
  fixed.seconds =
      DaysFromCivil(year, c.month, c.day) * kSecondsPerDay + tod - t.utc_offset;
  return fixed;
}

// Go's appendInt(b, x, width): zero-padded, sign before the padding.
void AppendPadded(std::string& out, int64_t value, int width) {
  if (value < 0) {
    out += '-';
    value = -value;
  }
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) {
    out.append(width - digits.size(), '0');
  }
  out += digits;
}

void AppendDateTime(std::string& out, const CivilTime& c, char separator) {
  AppendPadded(out, c.year, 4);
  out += '-';
  AppendPadded(out, c.month, 2);
  out += '-';
  AppendPadded(out, c.day, 2);
  out += separator;
  AppendPadded(out, c.hour, 2);
  out += ':';
  AppendPadded(out, c.minute, 2);
  out += ':';
  AppendPadded(out, c.second, 2);
}

// ".999999999": nine digits with the trailing zeros cut, nothing for zero.
void AppendFraction(std::string& out, uint32_t nanos) {
  if (nanos == 0) return;
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09u", nanos);
  std::string_view frac(buf);
  while (frac.back() == '0') frac.remove_suffix(1);
  out += frac;
}

// Go's "Z07:00": minutes are offset/60 truncated toward zero, so a
// sub-minute offset such as -30 s prints "+00:00" (never "Z": only an
// offset of exactly 0 does).
void AppendZone(std::string& out, int32_t offset) {
  if (offset == 0) {
    out += 'Z';
    return;
  }
  int32_t zone = offset / 60;
  if (zone < 0) {
    out += '-';
    zone = -zone;
  } else {
    out += '+';
  }
  AppendPadded(out, zone / 60, 2);
  out += ':';
  AppendPadded(out, zone % 60, 2);
}

// ---------------------------------------------------------------------------
// RFC 3339 parsing.

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool Done() const { return pos_ == text_.size(); }
  char Peek() const { return Done() ? '\0' : text_[pos_]; }

  bool Literal(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  // Exactly `width` decimal digits.
  bool Digits(int width, int64_t* value) {
    if (text_.size() - pos_ < static_cast<size_t>(width)) return false;
    int64_t v = 0;
    for (int i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += width;
    *value = v;
    return true;
  }

  // One or more digits after '.' (Go also takes ','); like Go, only the
  // first nine count.
  bool Fraction(uint32_t* nanos) {
    if (Peek() != '.' && Peek() != ',') return true;
    ++pos_;
    uint32_t value = 0;
    int count = 0;
    while (!Done() && Peek() >= '0' && Peek() <= '9') {
      if (count < 9) value = value * 10 + (Peek() - '0');
      ++count;
      ++pos_;
    }
    for (int i = count; i < 9; ++i) value *= 10;
    *nanos = value;
    return count > 0;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// "Z", or +hh:mm / -hh:mm.
bool ParseZone(Scanner& s, int32_t* offset) {
  if (s.Literal('Z')) {
    *offset = 0;
    return true;
  }
  int sign = s.Literal('+') ? 1 : s.Literal('-') ? -1 : 0;
  int64_t hh, mm;
  if (sign == 0 || !s.Digits(2, &hh) || !s.Literal(':') || !s.Digits(2, &mm)) {
    return false;
  }
  if (hh > 23 || mm > 59) return false;
  *offset = static_cast<int32_t>(sign * (hh * 3600 + mm * 60));
  return true;
}
}  // namespace

Timestamp Timestamp::Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Local(ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec));
}

Timestamp Timestamp::Local(int64_t seconds, uint32_t nanos) {
  Timestamp t = Normalized({seconds, nanos, 0});
  // Go's time.Local reads the same TZ / /etc/localtime as the C library.
  time_t tt = static_cast<time_t>(t.seconds);
  struct tm tm;
  if (localtime_r(&tt, &tm) != nullptr) {
    t.utc_offset = static_cast<int32_t>(tm.tm_gmtoff);
  }
  return t;
}

std::string FormatRfc3339Nano(const Timestamp& t) {
  const Timestamp fixed = ClampYear(Normalized(t));
  std::string out;
  AppendDateTime(out, ToCivil(fixed.seconds + fixed.utc_offset), 'T');
  AppendFraction(out, fixed.nanos);
  AppendZone(out, fixed.utc_offset);
  return out;
}

std::optional<Timestamp> ParseRfc3339(std::string_view text) {
  Scanner s(text);
  int64_t year, month, day, hour, minute, second;
  Timestamp t;
  if (!s.Digits(4, &year) || !s.Literal('-') || !s.Digits(2, &month) ||
      !s.Literal('-') || !s.Digits(2, &day) || !s.Literal('T') ||
      !s.Digits(2, &hour) || !s.Literal(':') || !s.Digits(2, &minute) ||
      !s.Literal(':') || !s.Digits(2, &second) || !s.Fraction(&t.nanos) ||
      !ParseZone(s, &t.utc_offset) || !s.Done()) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, static_cast<int>(month)) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  const int64_t local =
      DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) *
          kSecondsPerDay +
      hour * 3600 + minute * 60 + second;
  t.seconds = local - t.utc_offset;
  return t;
}

std::string FormatGoTimeString(const Timestamp& t) {
  const Timestamp n = Normalized(t);
  std::string out;
  AppendDateTime(out, ToCivil(n.seconds + n.utc_offset), ' ');
  AppendFraction(out, n.nanos);
  const int32_t minutes = (n.utc_offset < 0 ? -n.utc_offset : n.utc_offset) / 60;
  char offset[8];
  std::snprintf(offset, sizeof offset, "%c%02d%02d", n.utc_offset < 0 ? '-' : '+', minutes / 60 % 100, minutes % 60);
  out += ' ';
  out += offset;
  out += ' ';
  if (n.utc_offset == 0) {
    out += "UTC";
    return out;
  }
  time_t tt = static_cast<time_t>(n.seconds);
  struct tm tm;
  if (localtime_r(&tt, &tm) != nullptr && tm.tm_gmtoff == n.utc_offset && tm.tm_zone != nullptr) {
    out += tm.tm_zone;
  } else {
    out += offset;
  }
  return out;
}

std::string FormatTableTime(const Timestamp& t) {
  const Timestamp n = Normalized(t);
  std::string out;
  AppendDateTime(out, ToCivil(n.seconds + n.utc_offset), ' ');
  return out;
}
}  // namespace stash
