#include "apiserver/machinery/selector.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace stash::apiserver {
namespace {

// ---- Names ----

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters.
bool IsNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: lower-case labels of [a-z0-9-] joined by dots.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
            c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// ---- The label selector lexer ----

enum class Tok { kEnd, kIdent, kNot, kEq, kDoubleEq, kNotEq, kIn, kNotIn, kOpen, kClose, kComma, kGt, kLt };

struct Token {
  Tok type;
  std::string text;
};

bool IsSpecial(char c) { return std::string_view("=!(),><").find(c) != std::string_view::npos; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token Next() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return {Tok::kEnd, ""};
    char c = s_[pos_];
    if (IsSpecial(c)) return Special();
    size_t start = pos_;
    while (pos_ < s_.size() && !IsSpace(s_[pos_]) && !IsSpecial(s_[pos_])) ++pos_;
    std::string word(s_.substr(start, pos_ - start));
    if (word == "in") return {Tok::kIn, word};
    if (word == "notin") return {Tok::kNotIn, word};
    return {Tok::kIdent, word};
  }

 private:
  Token Special() {
    char c = s_[pos_++];
    char n = pos_ < s_.size() ? s_[pos_] : '\0';
    if (c == '!' && n == '=') return ++pos_, Token{Tok::kNotEq, "!="};
    if (c == '=' && n == '=') return ++pos_, Token{Tok::kDoubleEq, "=="};
    switch (c) {
      case '!': return {Tok::kNot, "!"};
      case '=': return {Tok::kEq, "="};
      case '(': return {Tok::kOpen, "("};
      case ')': return {Tok::kClose, ")"};
      case ',': return {Tok::kComma, ","};
      case '>': return {Tok::kGt, ">"};
      default: return {Tok::kLt, "<"};
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---- The label selector parser ----

class Parser {
 public:
  explicit Parser(std::string_view s) : lexer_(s) { Advance(); }

  Result<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> out;
    if (tok_.type == Tok::kEnd) return out;
    while (true) {
      STASH_ASSIGN_OR_RETURN(auto r, Requirement());
      out.push_back(std::move(r));
      if (tok_.type == Tok::kEnd) return out;
      if (tok_.type != Tok::kComma) return Unexpected("',' or 'end of string'");
      Advance();
    }
  }

 private:
  void Advance() { tok_ = lexer_.Next(); }

  Error Unexpected(const std::string& expected) const {
    std::string found = tok_.type == Tok::kEnd ? "" : tok_.text;
    return Invalid("unable to parse requirement: found '" + found + "', expected: " + expected);
  }

  Result<std::string> Key() {
    if (tok_.type != Tok::kIdent) return Unexpected("!, identifier");
    std::string key = tok_.text;
    Advance();
    if (!IsQualifiedName(key)) {
      return Invalid("unable to parse requirement: key: Invalid value: \"" + key +
                     "\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                     "and must start and end with an alphanumeric character");
    }
    return key;
  }

  Result<LabelRequirement> Requirement() {
    LabelRequirement r;
    bool negated = tok_.type == Tok::kNot;
    if (negated) Advance();
    STASH_ASSIGN_OR_RETURN(r.key, Key());
    if (negated || tok_.type == Tok::kEnd || tok_.type == Tok::kComma) {
      if (negated && tok_.type != Tok::kEnd && tok_.type != Tok::kComma) {
        return Unexpected("',' or 'end of string'");
      }
      r.op = negated ? LabelRequirement::kDoesNotExist : LabelRequirement::kExists;
      return r;
    }
    STASH_RETURN_IF_ERROR(Operator(r));
    for (const auto& v : r.values) {
      if (!IsLabelValue(v)) {
        return Invalid("unable to parse requirement: values[0][" + r.key + "]: Invalid value: \"" + v +
                       "\": a valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                       "character");
      }
    }
    return r;
  }

  Status Operator(LabelRequirement& r) {
    Token token = tok_;
    Tok op = token.type;
    Advance();
    switch (op) {
      case Tok::kEq:
      case Tok::kDoubleEq:
      case Tok::kNotEq:
        r.op = op == Tok::kNotEq ? LabelRequirement::kNotIn : LabelRequirement::kIn;
        return SingleValue(r);
      case Tok::kIn:
      case Tok::kNotIn:
        r.op = op == Tok::kIn ? LabelRequirement::kIn : LabelRequirement::kNotIn;
        return ValueSet(r);
      case Tok::kGt:
      case Tok::kLt:
        r.op = op == Tok::kGt ? LabelRequirement::kGreaterThan : LabelRequirement::kLessThan;
        return Integer(r);
      default:
        return Invalid("unable to parse requirement: found '" + token.text +
                       "', expected: =, !=, ==, in, notin");
    }
  }

  Status SingleValue(LabelRequirement& r) {
    if (tok_.type == Tok::kIdent) {
      r.values.push_back(tok_.text);
      Advance();
    } else if (tok_.type == Tok::kEnd || tok_.type == Tok::kComma) {
      r.values.push_back("");  // "k=" selects an empty value
    } else {
      return Unexpected("identifier");
    }
    return Status::Ok();
  }

  Status ValueSet(LabelRequirement& r) {
    if (tok_.type != Tok::kOpen) return Unexpected("'('");
    Advance();
    if (tok_.type == Tok::kClose) {
      return Invalid("unable to parse requirement: for 'in', 'notin' operators, values set can't be empty");
    }
    while (true) {
      if (tok_.type == Tok::kIdent) {
        r.values.push_back(tok_.text);
        Advance();
      } else {
        r.values.push_back("");
      }
      if (tok_.type == Tok::kClose) break;
      if (tok_.type != Tok::kComma) return Unexpected("',', ')'");
      Advance();
    }
    Advance();
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    return Status::Ok();
  }

  Status Integer(LabelRequirement& r) {
    if (tok_.type != Tok::kIdent) return Unexpected("identifier");
    int64_t n;
    const std::string& t = tok_.text;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || end != t.data() + t.size()) {
      return Invalid("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an "
                     "integer");
    }
    r.values.push_back(t);
    Advance();
    return Status::Ok();
  }

  Lexer lexer_;
  Token tok_{Tok::kEnd, ""};
};

bool Contains(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

bool IsQualifiedName(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsNamePart(key);
  if (key.find('/', slash + 1) != std::string_view::npos) return false;
  return IsDnsSubdomain(key.substr(0, slash)) && IsNamePart(key.substr(slash + 1));
}

bool IsLabelValue(std::string_view value) { return value.empty() || IsNamePart(value); }

bool LabelRequirement::Matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  switch (op) {
    case kIn: return has && Contains(values, it->second);
    case kNotIn: return !has || !Contains(values, it->second);
    case kExists: return has;
    case kDoesNotExist: return !has;
    case kGreaterThan:
    case kLessThan: {
      if (!has || values.empty()) return false;
      int64_t have, want;
      const std::string& h = it->second;
      auto r1 = std::from_chars(h.data(), h.data() + h.size(), have);
      auto r2 = std::from_chars(values[0].data(), values[0].data() + values[0].size(), want);
      if (r1.ec != std::errc() || r1.ptr != h.data() + h.size() || r2.ec != std::errc()) return false;
      return op == kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector s;
  STASH_ASSIGN_OR_RETURN(s.requirements_, Parser(text).Parse());
  return s;
}

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& r : requirements_) {
    if (!r.Matches(labels)) return false;
  }
  return true;
}

std::optional<std::set<std::string>> LabelSelector::AllowedValues(const std::string& key) const {
  std::optional<std::set<std::string>> allowed;
  for (const auto& r : requirements_) {
    if (r.key != key || r.op != LabelRequirement::kIn) continue;
    std::set<std::string> these(r.values.begin(), r.values.end());
    if (!allowed) {
      allowed = std::move(these);
      continue;
    }
    std::set<std::string> both;
    for (const auto& v : *allowed) {
      if (these.count(v)) both.insert(v);
    }
    allowed = std::move(both);
  }
  return allowed;
}

// ---- Field selectors ----

namespace {

// Splits at commas that are not escaped by a backslash.
std::vector<std::string> SplitTerms(std::string_view s) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s.substr(i, 2);
      ++i;
    } else if (s[i] == ',') {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

// Undoes \\, \, and \= escapes; nullopt on any other escape.
std::optional<std::string> Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    char n = s[++i];
    if (n != '\\' && n != ',' && n != '=') return std::nullopt;
    out += n;
  }
  return out;
}

Result<FieldRequirement> ParseTerm(const std::string& term) {
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == '\\') {
      ++i;
      continue;
    }
    FieldRequirement r;
    size_t op_len = 0;
    if (term.compare(i, 2, "!=") == 0) op_len = 2, r.equals = false;
    else if (term.compare(i, 2, "==") == 0) op_len = 2;
    else if (term[i] == '=') op_len = 1;
    if (op_len == 0) continue;
    r.field = term.substr(0, i);
    auto value = Unescape(std::string_view(term).substr(i + op_len));
    if (!value) return Invalid("invalid field selector value: \"" + term + "\"");
    r.value = std::move(*value);
    return r;
  }
  return Invalid("invalid selector: '" + term + "'; can't understand '" + term + "'");
}

}  // namespace

Result<FieldSelector> FieldSelector::Parse(std::string_view text,
                                           const std::vector<std::string>& known) {
  FieldSelector s;
  if (text.find_first_not_of(" \t") == std::string_view::npos) return s;
  for (const auto& term : SplitTerms(text)) {
    STASH_ASSIGN_OR_RETURN(FieldRequirement r, ParseTerm(term));
    if (!Contains(known, r.field)) {
      std::string only;
      for (const auto& k : known) only += (only.empty() ? "\"" : ", \"") + k + "\"";
      return Invalid("\"" + r.field + "\" is not a known field selector: only " + only);
    }
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

std::optional<std::string> FieldSelector::RequiredValue(const std::string& field) const {
  for (const auto& r : requirements_) {
    if (r.field == field && r.equals) return r.value;
  }
  return std::nullopt;
}

}  // namespace stash::apiserver
