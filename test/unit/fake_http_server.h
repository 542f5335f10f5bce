// A scripted HTTP/1.1 server on 127.0.0.1 for client tests: each request
// takes the next scripted action (answer, hang up, stall); when the script
// runs out it answers 200 with the request body echoed back. Connections
// are kept alive, so tests can count them.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stash::testing {

struct FakeAction {
  // kCutMidBody: announces `body` whole, sends half of it and hangs up.
  enum Kind { kAnswer, kDrop, kStallMidBody, kCutMidBody } kind = kAnswer;
  int status = 200;
  std::string body;
  std::string extra_headers;  // "Name: value\r\n" lines
  bool echo = false;          // answer with the request body instead of `body`
};

struct SeenRequest {
  std::string method, target, headers;  // headers: the raw header block
  size_t body_size = 0;
  std::string body;
};

class FakeHttpServer {
 public:
  FakeHttpServer();
  ~FakeHttpServer();

  int port() const { return port_; }
  void Script(std::vector<FakeAction> actions);
  std::vector<SeenRequest> requests();
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  FakeAction NextAction();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::deque<FakeAction> script_;
  std::vector<SeenRequest> seen_;
  std::vector<int> client_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace stash::testing
