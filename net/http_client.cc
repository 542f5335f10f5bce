#include "net/http_client.h"

#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "net/connection.h"

namespace stash::http {
namespace {

using std::chrono::milliseconds;

// An idle connection older than this is closed rather than reused: servers
// drop idle keep-alive connections after a while, and a fresh connection
// is cheaper than a failed attempt.
constexpr auto kMaxIdle = std::chrono::seconds(30);

long EnvNumber(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n > 0) ? n : fallback;
}

double RandomUnit() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string Seconds(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string StatusLine(const HttpResponse& r) {
  return std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason);
}

// A 429 or 503's Retry-After in seconds (the HTTP-date form is rare from
// the servers we talk to and is ignored), capped at a minute.
milliseconds RetryAfter(const HttpResponse& response) {
  std::string v = response.Header("retry-after");
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) return milliseconds(0);
  return std::min(milliseconds(std::stol(v) * 1000), milliseconds(60000));
}

}  // namespace

HttpOptions HttpOptionsFromEnvironment() {
  HttpOptions o;
  long timeout_s = EnvNumber("STASH_HTTP_TIMEOUT", 0);
  if (timeout_s > 0) {
    o.idle_timeout = milliseconds(timeout_s * 1000);
    o.connect_timeout = milliseconds(timeout_s * 1000);
  }
  o.retry.max_attempts = static_cast<int>(EnvNumber("STASH_HTTP_RETRIES", o.retry.max_attempts));
  o.retry.base_delay = milliseconds(EnvNumber("STASH_HTTP_BACKOFF", o.retry.base_delay.count()));
  return o;
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string HttpResponse::BodyText(size_t limit) const {
  std::string text(reinterpret_cast<const char*>(body.data()), std::min(body.size(), limit));
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

struct HttpClient::Pool {
  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
};

HttpClient::HttpClient(std::string name, Url origin, HttpOptions options,
                       std::unique_ptr<TlsContext> tls)
    : name_(std::move(name)),
      origin_(std::move(origin)),
      options_(std::move(options)),
      tls_(std::move(tls)),
      pool_(new Pool) {}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string name, const Url& origin,
                                                       HttpOptions options) {
  std::unique_ptr<TlsContext> tls;
  if (origin.tls()) {
    auto created = TlsContext::Create(options.ca_file, options.ca_pem);
    if (!created.ok()) return created.error().Wrap(name);
    tls = std::move(created).value();
    if (!options.client_cert_pem.empty()) {
      Status s = tls->UseClientCertificate(options.client_cert_pem, options.client_key_pem);
      if (!s.ok()) return s.error().Wrap(name);
    }
  }
  if (options.retry.max_attempts < 1) options.retry.max_attempts = 1;
  return std::unique_ptr<HttpClient>(
      new HttpClient(std::move(name), origin, std::move(options), std::move(tls)));
}

Result<std::unique_ptr<Connection>> HttpClient::Checkout(bool* reused) {
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    auto now = std::chrono::steady_clock::now();
    while (!pool_->idle.empty()) {
      std::unique_ptr<Connection> conn = std::move(pool_->idle.back());
      pool_->idle.pop_back();
      if (now - conn->idle_since < kMaxIdle) {
        *reused = true;
        return conn;
      }
    }
  }
  *reused = false;
  return Connection::Open(origin_, tls_.get(), options_);
}

void HttpClient::Return(std::unique_ptr<Connection> conn) {
  conn->idle_since = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(pool_->mu);
  if (pool_->idle.size() < options_.max_idle_connections) pool_->idle.push_back(std::move(conn));
}

// When one pooled connection turns out dead, its siblings from the same
// quiet period usually are too.
void HttpClient::DropIdle() {
  std::vector<std::unique_ptr<Connection>> doomed;
  std::lock_guard<std::mutex> lock(pool_->mu);
  doomed.swap(pool_->idle);
}

void HttpClient::Pause(int retry, const HttpRequest& request, const std::string& why,
                       milliseconds at_least) {
  milliseconds delay = std::max(options_.retry.DelayBefore(retry, RandomUnit()), at_least);
  if (options_.on_retry) {
    options_.on_retry(name_ + ": " + request.what + ": " + why + "; retrying in " +
                      Seconds(delay));
  }
  std::this_thread::sleep_for(delay);
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& request) {
  const int max_attempts = options_.retry.max_attempts;
  std::string last_failure;
  bool free_retry_used = false;
  int sends = 0;  // attempts plus the free retry: what the server may have seen
  for (int attempt = 1;; ++attempt) {
    milliseconds server_asked{0};
    HttpRequest signed_request = request;
    if (request.sign) request.sign(signed_request);
    bool reused = false;
    auto conn = Checkout(&reused);
    if (!conn.ok() && conn.error().kind() != ErrorKind::kIO) {
      return conn.error().Wrap(name_ + ": " + request.what);  // e.g. a bad certificate
    }
    if (conn.ok()) {
      ++sends;
      auto response = (*conn)->RoundTrip(signed_request);
      if (response.ok()) {
        if ((*conn)->reusable()) Return(std::move(*conn));
        response->attempts = sends;
        if (!RetryPolicy::IsRetryableStatus(response->status) || attempt >= max_attempts) {
          return response;
        }
        last_failure = StatusLine(*response);
        server_asked = RetryAfter(*response);
      } else if (response.error().kind() != ErrorKind::kIO) {
        return response.error().Wrap(name_ + ": " + request.what);
      } else if (reused && (*conn)->failed_before_response() && !free_retry_used) {
        DropIdle();  // a stale keep-alive connection: try again on a new one, for free
        free_retry_used = true;
        --attempt;
        continue;
      } else {
        last_failure = response.error().message();
      }
    } else {
      last_failure = conn.error().message();
    }
    if (attempt >= max_attempts) {
      return IOError(name_ + ": " + request.what + ": " + last_failure + " (gave up after " +
                     std::to_string(attempt) + " attempts)");
    }
    Pause(attempt, request, last_failure, server_asked);
  }
}

Status HttpClient::Stream(const HttpRequest& request, HttpResponse* head, const BodySink& on_data,
                          const std::atomic<bool>* cancel) {
  HttpRequest signed_request = request;
  if (request.sign) request.sign(signed_request);
  auto conn = Connection::Open(origin_, tls_.get(), options_);
  if (!conn.ok()) return conn.error().Wrap(name_ + ": " + request.what);
  Status s = (*conn)->Stream(signed_request, head, on_data, cancel);
  if (!s.ok()) return s.error().Wrap(name_ + ": " + request.what);
  return s;
}

Error StatusError(const std::string& backend, const std::string& what,
                  const HttpResponse& response, const std::string& detail) {
  std::string msg = backend + ": " + what + ": " + StatusLine(response);
  if (!detail.empty()) msg += ": " + detail;
  if (response.attempts > 1) msg += " (after " + std::to_string(response.attempts) + " attempts)";
  if (response.status == 404) return NotFound(msg);
  if (response.status == 401 || response.status == 403) return AuthError(msg);
  return IOError(msg);
}

}  // namespace stash::http
