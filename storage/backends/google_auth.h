// Google OAuth2 access tokens for the GCS backend.
//
// A service account's JSON key holds an RSA private key. To get a bearer
// token we sign a JWT (RS256) that names the account, the scope and the
// token endpoint, and trade it at that endpoint ("JWT bearer grant",
// RFC 7523). Tokens live an hour; ServiceAccountTokens keeps one until
// shortly before it expires and is safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "net/http_client.h"

namespace stash::http {

inline constexpr char kGcsReadWriteScope[] =
    "https://www.googleapis.com/auth/devstorage.read_write";

// The fields of a service-account key file that the token flow needs.
struct ServiceAccount {
  std::string client_email;
  std::string private_key;  // PEM
  std::string token_uri;    // Google's unless the file says otherwise
  std::string project_id;
};

// Parses a key file's content; kInvalid naming `what` (the variable or
// file) when it is not a service-account key.
Result<ServiceAccount> ParseServiceAccount(std::string_view json, const std::string& what);

// URL-safe base64 without padding, as JWTs use it.
std::string Base64Url(ByteView data);

// A signed JWT assertion ("header.claims.signature") issued at `now`
// (Unix seconds) and valid for an hour.
Result<std::string> MakeJwtAssertion(const ServiceAccount& account, const std::string& scope,
                                     int64_t now);

struct AccessToken {
  std::string value;
  int64_t expires_at = 0;  // Unix seconds
};

// Reads the token endpoint's JSON answer received at `now`.
Result<AccessToken> ParseTokenResponse(std::string_view body, int64_t now);

// Where a backend gets the bearer token for each request.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The token to send; "" means send no Authorization header.
  virtual Result<std::string> Token() = 0;
};

// A fixed token (GOOGLE_ACCESS_TOKEN), or "" for none (an emulator).
std::unique_ptr<TokenSource> StaticTokenSource(std::string token);

class ServiceAccountTokens : public TokenSource {
 public:
  static Result<std::unique_ptr<ServiceAccountTokens>> Create(ServiceAccount account,
                                                              std::string scope,
                                                              HttpOptions options);
  Result<std::string> Token() override;

 private:
  ServiceAccountTokens(ServiceAccount account, std::string scope, std::string target,
                       std::unique_ptr<HttpClient> client);
  Result<AccessToken> Fetch();

  ServiceAccount account_;
  std::string scope_;
  std::string target_;  // path and query of token_uri
  std::unique_ptr<HttpClient> client_;
  std::mutex mu_;  // held while fetching, so threads wait for one exchange
  AccessToken cached_;
};

}  // namespace stash::http
