#include "test/unit/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <strings.h>

namespace stash::testing {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Whatever";
}

void SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Reads into `buf` until it holds `want` bytes; false if the peer is gone.
bool Fill(int fd, std::string& buf, size_t want) {
  char chunk[65536];
  while (buf.size() < want) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

size_t ContentLength(const std::string& headers) {
  size_t pos = 0;
  while ((pos = headers.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    if (strncasecmp(headers.c_str() + pos, "content-length:", 15) == 0) {
      return std::strtoul(headers.c_str() + pos + 15, nullptr, 10);
    }
  }
  return 0;
}

}  // namespace

FakeHttpServer::FakeHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  for (int fd : client_fds_) ::close(fd);
  ::close(listen_fd_);
}

void FakeHttpServer::Script(std::vector<FakeAction> actions) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.assign(actions.begin(), actions.end());
}

std::vector<SeenRequest> FakeHttpServer::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

FakeAction FakeHttpServer::NextAction() {
  std::lock_guard<std::mutex> lock(mu_);
  if (script_.empty()) return FakeAction{FakeAction::kAnswer, 200, "", "", true};
  FakeAction a = script_.front();
  script_.pop_front();
  return a;
}

void FakeHttpServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    client_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buf;
  while (!stopping_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(fd, buf, buf.size() + 1)) return;
    }
    std::string head = buf.substr(0, end + 2);
    size_t body_len = ContentLength(head);
    if (!Fill(fd, buf, end + 4 + body_len)) return;
    std::string body = buf.substr(end + 4, body_len);
    buf.erase(0, end + 4 + body_len);
    SeenRequest seen;
    seen.method = head.substr(0, head.find(' '));
    size_t t = head.find(' ') + 1;
    seen.target = head.substr(t, head.find(' ', t) - t);
    seen.headers = head;
    seen.body_size = body_len;
    seen.body = body;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(seen);
    }
    FakeAction action = NextAction();
    if (action.kind == FakeAction::kDrop) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    if (action.kind == FakeAction::kStallMidBody) {
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
      pollfd p{fd, POLLIN, 0};
      while (!stopping_ && ::poll(&p, 1, 50) == 0) {}  // until the client gives up
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    if (action.kind == FakeAction::kCutMidBody) {
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(action.body.size()) + "\r\n\r\n" +
                      action.body.substr(0, action.body.size() / 2));
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    std::string reply = action.echo ? body : action.body;
    std::string out = "HTTP/1.1 " + std::to_string(action.status) + " " + Reason(action.status) +
                      "\r\nContent-Length: " + std::to_string(reply.size()) + "\r\n" +
                      action.extra_headers + "\r\n";
    if (seen.method != "HEAD") out += reply;
    SendAll(fd, out);
  }
}

}  // namespace stash::testing
