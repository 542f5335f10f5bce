// The API server is built on the generic HTTPS server in net/server/: these
// names let the apiserver code say Request, Response and HttpServer as if
// they were its own, without re-declaring anything.
#pragma once

#include "net/server/http.h"
#include "net/server/http_server.h"
#include "net/server/tls.h"

namespace stash::apiserver {

using server::CertificateAndKey;
using server::CertificateRequest;
using server::ClientCertificate;
using server::CommonNameOf;
using server::EqualsIgnoreCase;
using server::GenerateCa;
using server::Handler;
using server::Headers;
using server::HttpServer;
using server::IssueCertificate;
using server::MakeServerContext;
using server::ParseTarget;
using server::PercentDecode;
using server::PlainTextError;
using server::Query;
using server::ReadClientCertificate;
using server::ReasonPhrase;
using server::Request;
using server::Responder;
using server::Response;
using server::ServerOptions;
using server::StreamWriter;
using server::TlsConfig;

}  // namespace stash::apiserver
