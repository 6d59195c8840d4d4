#include "server/console/json_gateway.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/console/http_status.h"

namespace ft::console {
namespace {

// A unary call that takes longer has lost its client long ago (a browser gives up first).
constexpr std::chrono::seconds kUnaryDeadline{60};

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// The request body as `message`; an empty body leaves it empty. Unknown fields are refused with
// their name, as a misspelt field would otherwise be silently ignored.
grpc::Status ParseBody(const HttpRequest& request, google::protobuf::Message* message) {
  if (request.body.empty()) return grpc::Status::OK;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(request.body, message, options);
  if (!status.ok()) {
    return InvalidArgument(absl::StrCat("request body (", message->GetDescriptor()->name(),
                                        " as JSON): ", status.message().as_string()));
  }
  return grpc::Status::OK;
}

template <typename Response>
HttpReply Reply(const grpc::Status& status, const Response& response) {
  if (!status.ok()) return ErrorReply(status);
  return HttpReply{200, "application/json", ToJson(response)};
}

}  // namespace

grpc::Status PrepareContext(const HttpRequest& request, grpc::ClientContext* context) {
  for (char c : request.authorization) {
    if (c < 0x20 || c > 0x7e) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "Authorization header: not a bearer token");
    }
  }
  if (!request.authorization.empty()) {
    context->AddMetadata("authorization", request.authorization);
  }
  return grpc::Status::OK;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a valid message cannot fail; an empty object is the fallback all the same.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

HttpReply ErrorReply(const grpc::Status& status) {
  return HttpReply{HttpStatusFromGrpc(status.error_code()), "application/json",
                   ErrorJson(status.error_code(), status.error_message())};
}

JsonGateway::JsonGateway(std::shared_ptr<grpc::ChannelInterface> channel)
    : stub_(ft::v1::FinetuneService::NewStub(std::move(channel))) {}

grpc::Status JsonGateway::ListJobs(const HttpRequest& request, grpc::ClientContext* context,
                                   ft::v1::ListJobsResponse* response) {
  absl::StatusOr<std::multimap<std::string, std::string>> query = ParseQuery(request.query);
  if (!query.ok()) return InvalidArgument(std::string(query.status().message()));
  ft::v1::ListJobsRequest list;
  for (const auto& [key, value] : *query) {
    if (key == "state") {
      ft::v1::JobState state;
      if (!ft::v1::JobState_Parse(value, &state)) {
        return InvalidArgument(absl::StrCat("query parameter state: unknown job state '", value,
                                            "' (QUEUED, RUNNING, SUCCEEDED, ...)"));
      }
      list.add_states(state);
    } else if (key == "page_size") {
      uint32_t size = 0;
      if (!absl::SimpleAtoi(value, &size)) {
        return InvalidArgument(
            absl::StrCat("query parameter page_size: '", value, "' is not a non-negative integer"));
      }
      list.set_page_size(size);
    } else if (key == "page_token") {
      list.set_page_token(value);
    } else {
      return InvalidArgument(
          absl::StrCat("query parameter '", key, "': unknown (state, page_size, page_token)"));
    }
  }
  return stub_->ListJobs(context, list, response);
}

HttpReply JsonGateway::Call(const Route& route, const HttpRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kUnaryDeadline);
  if (grpc::Status status = PrepareContext(request, &context); !status.ok()) {
    return ErrorReply(status);
  }
  switch (route.endpoint) {
    case Endpoint::kListJobs: {
      ft::v1::ListJobsResponse response;
      return Reply(ListJobs(request, &context, &response), response);
    }
    case Endpoint::kSubmitJob: {
      ft::v1::SubmitJobRequest submit;
      if (grpc::Status status = ParseBody(request, &submit); !status.ok()) {
        return ErrorReply(status);
      }
      ft::v1::SubmitJobResponse response;
      return Reply(stub_->SubmitJob(&context, submit, &response), response);
    }
    case Endpoint::kGetJob: {
      ft::v1::GetJobRequest get;
      get.set_job_id(route.job_id);
      ft::v1::Job job;
      return Reply(stub_->GetJob(&context, get, &job), job);
    }
    case Endpoint::kDeleteJob: {
      ft::v1::DeleteJobRequest remove;
      remove.set_job_id(route.job_id);
      ft::v1::DeleteJobResponse response;
      return Reply(stub_->DeleteJob(&context, remove, &response), response);
    }
    case Endpoint::kCancelJob: {
      ft::v1::CancelJobRequest cancel;
      if (grpc::Status status = ParseBody(request, &cancel); !status.ok()) {
        return ErrorReply(status);
      }
      if (!cancel.job_id().empty() && cancel.job_id() != route.job_id) {
        return ErrorReply(InvalidArgument("request body job_id: differs from the job in the URL"));
      }
      cancel.set_job_id(route.job_id);
      ft::v1::Job job;
      return Reply(stub_->CancelJob(&context, cancel, &job), job);
    }
    case Endpoint::kListArtifacts: {
      ft::v1::ListArtifactsRequest list;
      list.set_job_id(route.job_id);
      ft::v1::ListArtifactsResponse response;
      return Reply(stub_->ListArtifacts(&context, list, &response), response);
    }
    default:
      return ErrorReply(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such API endpoint"));
  }
}

}  // namespace ft::console
