// How a gRPC status reads over HTTP: the status line and a JSON error body, in the shape of
// Google's JSON APIs (google.rpc.Status mapped as in google/rpc/code.proto).
#pragma once

#include <string>
#include <string_view>

#include "grpcpp/support/status.h"

namespace ft::console {

// 200 for OK, 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403, 404, 409, 429, 499, 500, 501,
// 503, 504 as google/rpc/code.proto documents for each code.
int HttpStatusFromGrpc(grpc::StatusCode code);

// {"error": {"code": HTTP, "status": "NOT_FOUND", "message": "..."}}; HTTP is http_status, or
// HttpStatusFromGrpc(code) when 0.
std::string ErrorJson(grpc::StatusCode code, std::string_view message, int http_status = 0);

// The reason phrase of an HTTP status ("Not Found"); "Error" for one this server never sends.
const char* HttpReasonPhrase(int status);

}  // namespace ft::console
