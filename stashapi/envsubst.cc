#include "stashapi/envsubst.h"

#include <fnmatch.h>

#include <cctype>
#include <algorithm>
#include <charconv>
#include <optional>

namespace stash {
namespace {

bool NameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool NameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool Glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

std::string Upper(std::string s, bool all) {
  for (size_t i = 0; i < s.size() && (all || i == 0); ++i) s[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
  return s;
}

std::string Lower(std::string s, bool all) {
  for (size_t i = 0; i < s.size() && (all || i == 0); ++i) s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  return s;
}

Result<long long> Number(std::string_view text, const std::string& expr) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  long long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Invalid("${" + expr + "}: \"" + std::string(text) + "\" is not a number");
  }
  return n;
}

std::string Substring(const std::string& value, long long pos, std::optional<long long> len) {
  long long size = static_cast<long long>(value.size());
  if (pos < 0) pos = std::max(0LL, size + pos);
  if (pos >= size) return "";
  long long n = size - pos;
  if (len) n = *len < 0 ? std::max(0LL, size + *len - pos) : std::min(n, *len);
  return value.substr(static_cast<size_t>(pos), static_cast<size_t>(n));
}

std::string CutPrefix(const std::string& value, const std::string& pattern, bool longest) {
  for (size_t k = 0; k <= value.size(); ++k) {
    size_t i = longest ? value.size() - k : k;
    if (Glob(pattern, value.substr(0, i))) return value.substr(i);
  }
  return value;
}

std::string CutSuffix(const std::string& value, const std::string& pattern, bool longest) {
  for (size_t k = 0; k <= value.size(); ++k) {
    size_t i = longest ? k : value.size() - k;  // where the suffix starts
    if (Glob(pattern, value.substr(i))) return value.substr(0, i);
  }
  return value;
}

std::string Replace(const std::string& value, const std::string& from, const std::string& to, char mode) {
  if (from.empty()) return value;
  if (mode == '#') return value.starts_with(from) ? to + value.substr(from.size()) : value;
  if (mode == '%') return value.ends_with(from) ? value.substr(0, value.size() - from.size()) + to : value;
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = value.find(from, at)) != std::string::npos;) {
    out += value.substr(at, hit - at) + to;
    at = hit + from.size();
    if (mode != '/') break;  // only the first
  }
  return out + value.substr(at);
}

Result<std::string> Expand(std::string_view text, const SubstInputs& inputs, int depth);

// One `${expr}`, the braces taken off.
Result<std::string> Evaluate(const std::string& expr, const SubstInputs& inputs, int depth) {
  auto sub = [&](std::string_view t) { return Expand(t, inputs, depth + 1); };
  if (expr.size() > 1 && expr[0] == '#' && NameStart(expr[1])) {
    std::string name = expr.substr(1);
    for (char c : name) {
      if (!NameChar(c)) return Invalid("bad substitution ${" + expr + "}");
    }
    auto it = inputs.find(name);
    if (it == inputs.end()) return Invalid("variable " + name + " has no value and no default");
    return std::to_string(it->second.size());
  }
  if (expr.empty() || !NameStart(expr[0])) return Invalid("bad substitution ${" + expr + "}");
  size_t n = 1;
  while (n < expr.size() && NameChar(expr[n])) ++n;
  const std::string name = expr.substr(0, n);
  const std::string rest = expr.substr(n);
  auto it = inputs.find(name);
  const bool present = it != inputs.end();
  // The defaults: the only forms an absent key may take.
  for (const char* op : {":=", ":-", "="}) {
    if (rest.starts_with(op)) {
      if (present) return it->second;
      return sub(std::string_view(rest).substr(std::string_view(op).size()));
    }
  }
  if (!present) return Invalid("variable " + name + " has no value and no default");
  const std::string& value = it->second;
  if (rest.empty()) return value;
  auto arg = [&](size_t skip) { return std::string_view(rest).substr(skip); };
  if (rest.starts_with(":?")) {
    if (!value.empty()) return value;
    STASH_ASSIGN_OR_RETURN(std::string msg, sub(arg(2)));
    return Invalid(name + ": " + (msg.empty() ? "parameter null or not set" : msg));
  }
  if (rest.starts_with(":+")) {
    if (value.empty()) return std::string();
    return sub(arg(2));
  }
  if (rest[0] == ':') {
    std::string spec = rest.substr(1);
    size_t colon = spec.find(':');
    STASH_ASSIGN_OR_RETURN(long long pos, Number(std::string_view(spec).substr(0, colon), expr));
    std::optional<long long> len;
    if (colon != std::string::npos) {
      STASH_ASSIGN_OR_RETURN(long long l, Number(std::string_view(spec).substr(colon + 1), expr));
      len = l;
    }
    return Substring(value, pos, len);
  }
  if (rest[0] == '-' || rest[0] == '?') return value;  // present: the value
  if (rest[0] == '+') return sub(arg(1));
  if (rest == "^^" || rest == "^") return Upper(value, rest.size() == 2);
  if (rest == ",," || rest == ",") return Lower(value, rest.size() == 2);
  if (rest[0] == '#' || rest[0] == '%') {
    bool longest = rest.size() > 1 && rest[1] == rest[0];
    STASH_ASSIGN_OR_RETURN(std::string pattern, sub(arg(longest ? 2 : 1)));
    return rest[0] == '#' ? CutPrefix(value, pattern, longest) : CutSuffix(value, pattern, longest);
  }
  if (rest[0] == '/') {
    char mode = 0;  // 0: the first; '/': every; '#': at the start; '%': at the end
    size_t skip = 1;
    if (rest.size() > 1 && (rest[1] == '/' || rest[1] == '#' || rest[1] == '%')) mode = rest[1], skip = 2;
    std::string_view spec = arg(skip);
    size_t slash = spec.find('/');
    STASH_ASSIGN_OR_RETURN(std::string from, sub(spec.substr(0, slash)));
    std::string to;
    if (slash != std::string_view::npos) {
      STASH_ASSIGN_OR_RETURN(to, sub(spec.substr(slash + 1)));
    }
    return Replace(value, from, to, mode);
  }
  return Invalid("bad substitution ${" + expr + "}");
}

Result<std::string> Expand(std::string_view text, const SubstInputs& inputs, int depth) {
  if (depth > 32) return Invalid("${...} nested too deeply");
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t dollar = text.find("${", i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    // The matching brace, counting nested ${ ... }.
    size_t j = dollar + 2;
    int open = 1;
    while (j < text.size() && open > 0) {
      if (text[j] == '$' && j + 1 < text.size() && text[j + 1] == '{') {
        ++open;
        j += 2;
        continue;
      }
      if (text[j] == '}') --open;
      ++j;
    }
    if (open > 0) {
      std::string start(text.substr(dollar, 40));
      return Invalid("unclosed ${ in \"" + start + (text.size() - dollar > 40 ? "...\"" : "\""));
    }
    std::string expr(text.substr(dollar + 2, j - 1 - (dollar + 2)));
    STASH_ASSIGN_OR_RETURN(std::string value, Evaluate(expr, inputs, depth));
    out += value;
    i = j;
  }
  return out;
}

}  // namespace

Result<std::string> EnvSubst(std::string_view text, const SubstInputs& inputs) { return Expand(text, inputs, 0); }

}  // namespace stash
