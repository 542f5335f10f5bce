// ClientSet: the HTTP clients of a backend that talks to several servers
// (B2's API, upload and download hosts; Swift's auth and storage hosts).
// An HttpClient serves one origin, and these servers are only known once
// authorization names them, so clients are made on first use and kept for
// the backend's life (pointers stay valid). Safe to use from many threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "net/http_client.h"

namespace stash::http {

class ClientSet {
 public:
  ClientSet(std::string name, HttpOptions options)
      : name_(std::move(name)), options_(std::move(options)) {}

  // The client for `url`'s scheme, host and port.
  Result<HttpClient*> For(const Url& url) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = clients_[url.scheme + "://" + url.HostHeader()];
    if (!slot) {
      STASH_ASSIGN_OR_RETURN(slot, HttpClient::Create(name_, url, options_));
    }
    return slot.get();
  }

  // Sends `request` to the absolute URL `url`: its path and query replace
  // request.target.
  Result<HttpResponse> Send(const std::string& url, HttpRequest request) {
    auto parsed = ParseUrl(url);
    if (!parsed.ok()) return parsed.error().Wrap(name_ + ": bad URL from the server");
    STASH_ASSIGN_OR_RETURN(HttpClient* client, For(*parsed));
    request.target = parsed->query.empty() ? parsed->path : parsed->path + "?" + parsed->query;
    return client->Do(request);
  }

 private:
  std::string name_;
  HttpOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<HttpClient>> clients_;
};

}  // namespace stash::http
