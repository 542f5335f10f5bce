// Result<T> and Status: the error type that crosses module borders.
//
// Every fallible function in crypto/, storage/ and engine/ returns one of
// these instead of throwing. An Error carries a kind (which the CLI maps to
// an exit code and the apiserver to an HTTP Status) and one human-readable
// message that names the object involved ("snapshots/1a2b...: ciphertext
// verification failed").
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace stash {

enum class ErrorKind {
  kNotFound,     // a file, blob, snapshot or key does not exist
  kCorrupt,      // bytes failed MAC, hash, length or format checks
  kAuth,         // wrong password / no key could be opened
  kIO,           // the backend or the file system failed
  kInvalid,      // bad arguments or input from the user
  kConflict,     // ambiguous prefix, lock held, file already exists
  kUnsupported,  // a feature or version we do not handle
};

const char* ErrorKindName(ErrorKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message)
      : kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>", so callers can
  // add the name of the thing they were working on as an error bubbles up.
  Error Wrap(const std::string& context) const {
    return Error(kind_, context + ": " + message_);
  }

 private:
  ErrorKind kind_;
  std::string message_;
};

inline Error NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
inline Error Corrupt(std::string m) { return {ErrorKind::kCorrupt, std::move(m)}; }
inline Error AuthError(std::string m) { return {ErrorKind::kAuth, std::move(m)}; }
inline Error IOError(std::string m) { return {ErrorKind::kIO, std::move(m)}; }
inline Error Invalid(std::string m) { return {ErrorKind::kInvalid, std::move(m)}; }
inline Error Conflict(std::string m) { return {ErrorKind::kConflict, std::move(m)}; }
inline Error Unsupported(std::string m) { return {ErrorKind::kUnsupported, std::move(m)}; }

// Either a value of type T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// A Result without a value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }

 private:
  Error error_{ErrorKind::kInvalid, ""};
  bool failed_ = false;
};

}  // namespace stash

// Propagates an error from an expression that yields a Status or Result.
#define STASH_RETURN_IF_ERROR(expr)            \
  do {                                         \
    auto&& stash_status_ = (expr);             \
    if (!stash_status_.ok()) return stash_status_.error(); \
  } while (0)

#define STASH_CONCAT_INNER(a, b) a##b
#define STASH_CONCAT(a, b) STASH_CONCAT_INNER(a, b)

// `STASH_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or
// returns its error.
#define STASH_ASSIGN_OR_RETURN(decl, expr) \
  STASH_ASSIGN_OR_RETURN_IMPL(STASH_CONCAT(stash_result_, __LINE__), decl, expr)
#define STASH_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.error();                 \
  decl = std::move(tmp).value()
