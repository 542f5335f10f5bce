// Azure Storage "Shared Key" authorization for Blob service requests
// (version 2009-09-19 and later), as Microsoft's "Authorize with Shared Key"
// describes it: https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key
//
//   StringToSign = VERB + "\n" + Content-Encoding + "\n" + Content-Language + "\n" +
//                  Content-Length + "\n" + Content-MD5 + "\n" + Content-Type + "\n" +
//                  Date + "\n" + If-Modified-Since + "\n" + If-Match + "\n" +
//                  If-None-Match + "\n" + If-Unmodified-Since + "\n" + Range + "\n" +
//                  CanonicalizedHeaders + CanonicalizedResource
//   Authorization = "SharedKey <account>:" + Base64(HMAC-SHA256(key, StringToSign))
//
// Content-Length is empty when zero (version 2015-02-21 and later). We
// always send x-ms-date, so the Date slot stays empty. Checked against the
// documentation's examples in test/unit/azure_test.cc.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "storage/backends/sigv4.h"  // HeaderList

namespace stash::http {

struct SharedKeyRequest {
  std::string method;
  // The encoded URI path exactly as sent: "/container/blob", or with the
  // account first for path-style emulators ("/devstoreaccount1/container").
  std::string path;
  HeaderList query;    // decoded names and values, any order
  HeaderList headers;  // every header sent, any case (Content-Length excluded)
  uint64_t content_length = 0;
};

// The x-ms-* headers, names lower-cased and sorted, each "name:value\n";
// values have runs of whitespace collapsed and are trimmed.
std::string SharedKeyCanonicalHeaders(const HeaderList& headers);

// "/<account><path>" followed by "\nname:value" for each query parameter,
// names lower-cased and sorted, repeated names' values sorted and joined
// with ','.
std::string SharedKeyCanonicalResource(const std::string& account, const std::string& path,
                                       const HeaderList& query);

std::string SharedKeyStringToSign(const std::string& account, const SharedKeyRequest& request);

// Base64 HMAC-SHA256 of the string to sign under the (decoded) account key.
std::string SharedKeySignature(ByteView key, std::string_view string_to_sign);

// The complete Authorization header value: "SharedKey <account>:<signature>".
std::string SharedKeyAuthorization(const std::string& account, ByteView key,
                                   const SharedKeyRequest& request);

// An RFC 1123 date for x-ms-date: "Sun, 11 Oct 2009 21:49:13 GMT".
std::string HttpDate(long long unix_seconds);

}  // namespace stash::http
