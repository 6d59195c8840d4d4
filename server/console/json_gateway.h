// The console's JSON API: each unary endpoint is one call of ftd's own FinetuneService through
// an in-process channel, with the request's bearer token forwarded as gRPC metadata, so that
// authorization, limits and metrics are the gRPC API's own. Messages travel as protobuf JSON with
// the proto field names (docs/api.md "JSON API").
#pragma once

#include <memory>
#include <string>

#include "ft/v1/finetune_service.grpc.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "server/console/http_request.h"
#include "server/console/routes.h"

namespace ft::console {

class JsonGateway {
 public:
  explicit JsonGateway(std::shared_ptr<grpc::ChannelInterface> channel);

  // The reply of a unary endpoint (list, submit, get, delete, cancel, list artifacts): the
  // response message as
  // JSON, or the gRPC status as an HTTP status with a JSON error body.
  HttpReply Call(const Route& route, const HttpRequest& request);

  ft::v1::FinetuneService::StubInterface* stub() { return stub_.get(); }

 private:
  grpc::Status ListJobs(const HttpRequest& request, grpc::ClientContext* context,
                        ft::v1::ListJobsResponse* response);

  std::unique_ptr<ft::v1::FinetuneService::StubInterface> stub_;
};

// A client context for a call made on behalf of `request`: its Authorization header as the
// `authorization` metadata. UNAUTHENTICATED for a header gRPC could not carry (not printable
// ASCII), which no valid token has.
grpc::Status PrepareContext(const HttpRequest& request, grpc::ClientContext* context);

// `message` as JSON, proto field names, fields at their default values included so that every
// reply has the same shape.
std::string ToJson(const google::protobuf::Message& message);

// The reply for a failed call.
HttpReply ErrorReply(const grpc::Status& status);

}  // namespace ft::console
