// JsonOut: a small streaming JSON writer for API responses.
//
// Strings are escaped exactly as Go's encoding/json does (HTML-safe, invalid
// UTF-8 as \ufffd), so what we serve reads like kube-apiserver output and
// bytes from snapshots (host names, paths) can never break the document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/go_json.h"

namespace stash {

class JsonOut {
 public:
  JsonOut& Open() { return Begin('{'); }
  JsonOut& Close() { return End('}'); }
  JsonOut& OpenArray() { return Begin('['); }
  JsonOut& CloseArray() { return End(']'); }

  JsonOut& Key(std::string_view key) {
    Separate();
    AppendGoJsonString(out_, key);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonOut& Str(std::string_view v) { return Value([&] { AppendGoJsonString(out_, v); }); }
  JsonOut& Int(int64_t v) { return Value([&] { out_ += std::to_string(v); }); }
  JsonOut& Uint(uint64_t v) { return Value([&] { out_ += std::to_string(v); }); }
  JsonOut& Bool(bool v) { return Value([&] { out_ += v ? "true" : "false"; }); }
  JsonOut& Null() { return Value([&] { out_ += "null"; }); }
  // A value that is already JSON.
  JsonOut& Raw(std::string_view json) { return Value([&] { out_ += json; }); }

  // Shortcuts for "key": value.
  JsonOut& Field(std::string_view k, std::string_view v) { return Key(k).Str(v); }
  JsonOut& Field(std::string_view k, const char* v) { return Key(k).Str(v); }
  JsonOut& Field(std::string_view k, const std::string& v) { return Key(k).Str(v); }
  JsonOut& FieldInt(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonOut& FieldBool(std::string_view k, bool v) { return Key(k).Bool(v); }
  JsonOut& FieldStrings(std::string_view k, const std::vector<std::string>& list) {
    Key(k).OpenArray();
    for (const auto& s : list) Str(s);
    return CloseArray();
  }

  void Reserve(size_t bytes) { out_.reserve(bytes); }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  template <class F>
  JsonOut& Value(F write) {
    Separate();
    write();
    return *this;
  }
  JsonOut& Begin(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonOut& End(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }

  std::string out_;
  std::vector<bool> first_;  // per open object/array: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace stash
