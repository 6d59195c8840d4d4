#include "server/console/console_server.h"

#include <cstring>

#include "CivetServer.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/console/assets.h"
#include "server/console/http_status.h"
#include "server/console/routes.h"
#include "spdlog/spdlog.h"

namespace ft::console {
namespace {

// Every reply: no caching of job data, no MIME sniffing, no framing by other sites. The page
// loads nothing from anywhere but ftd.
constexpr const char* kCommonHeaders =
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Connection: close\r\n";

HttpReply Refusal(int status, grpc::StatusCode code, const std::string& message) {
  return HttpReply{status, "application/json", ErrorJson(code, message, status)};
}

class ConnectionStream final : public ResponseStream {
 public:
  explicit ConnectionStream(mg_connection* conn) : conn_(conn) {}
  bool Start(const StreamHead& head) override {
    std::string text = absl::StrCat("HTTP/1.1 ", head.status, " ", HttpReasonPhrase(head.status),
                                    "\r\nContent-Type: ", head.content_type, "\r\n");
    if (head.content_length)
      absl::StrAppend(&text, "Content-Length: ", *head.content_length, "\r\n");
    for (const auto& [name, value] : head.headers)
      absl::StrAppend(&text, name, ": ", value, "\r\n");
    absl::StrAppend(&text, kCommonHeaders, "\r\n");
    return Write(text);
  }
  bool Write(absl::string_view bytes) override {
    return mg_write(conn_, bytes.data(), bytes.size()) > 0;
  }

 private:
  mg_connection* conn_;
};

void SendReply(mg_connection* conn, const HttpReply& reply, bool head_only = false) {
  StreamHead head{reply.status, reply.content_type, reply.body.size(), {}};
  if (reply.status == 401) head.headers.push_back({"WWW-Authenticate", "Bearer realm=\"ftd\""});
  ConnectionStream stream(conn);
  if (stream.Start(head) && !head_only) stream.Write(reply.body);
}

}  // namespace

class ConsoleServer::Handler final : public CivetHandler {
 public:
  explicit Handler(ConsoleServer* console) : console_(console) {}

  bool handleGet(CivetServer*, mg_connection* conn) override { return Handle(conn, "GET"); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Handle(conn, "HEAD"); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return Handle(conn, "POST"); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return Handle(conn, "DELETE"); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return Handle(conn, "PUT"); }
  bool handlePatch(CivetServer*, mg_connection* conn) override { return Handle(conn, "PATCH"); }

 private:
  bool Handle(mg_connection* conn, const char* method) {
    const mg_request_info* info = mg_get_request_info(conn);
    HttpRequest request;
    request.method = method;
    request.path = info->local_uri != nullptr ? info->local_uri : "/";
    request.query = info->query_string != nullptr ? info->query_string : "";
    if (const char* header = mg_get_header(conn, "Authorization")) request.authorization = header;
    if (const char* header = mg_get_header(conn, "Content-Type")) request.content_type = header;
    if (const char* header = mg_get_header(conn, "Range")) request.range = header;
    const Route route = MatchRoute(request.method, request.path);
    switch (route.endpoint) {
      case Endpoint::kAsset: {
        const Asset* asset = FindAsset(route.name);
        if (asset == nullptr) {
          SendReply(conn, HttpReply{404, "text/plain; charset=utf-8", "not found\n"});
        } else {
          SendReply(conn,
                    HttpReply{200, std::string(asset->content_type), std::string(asset->body)},
                    request.method == "HEAD");
        }
        return true;
      }
      case Endpoint::kNotFound:
        SendReply(conn, Refusal(404, grpc::StatusCode::NOT_FOUND,
                                absl::StrCat("no API endpoint ", request.path)));
        return true;
      case Endpoint::kMethodNotAllowed:
        SendReply(conn, Refusal(405, grpc::StatusCode::UNIMPLEMENTED,
                                absl::StrCat(request.method, " is not allowed on ", request.path)));
        return true;
      case Endpoint::kWatchJob: {
        ConnectionStream stream(conn);
        if (std::optional<HttpReply> refused =
                console_->streams_.Serve(route.job_id, request, &stream)) {
          SendReply(conn, *refused);
        }
        return true;
      }
      case Endpoint::kDownloadArtifact:
      case Endpoint::kDownloadByLink: {
        ConnectionStream stream(conn);
        if (std::optional<HttpReply> refused =
                console_->downloads_.Serve(route, request, &stream)) {
          SendReply(conn, *refused);
        }
        return true;
      }
      default:
        break;
    }
    // A POST must say application/json: a page of another origin can send a form or a "simple"
    // text/plain POST without a CORS preflight (which ftd never grants), and could otherwise
    // submit or cancel jobs on a server without tokens. PUT and DELETE always need a preflight.
    if (request.method == "POST" && !absl::StartsWith(request.content_type, "application/json")) {
      SendReply(conn, Refusal(415, grpc::StatusCode::INVALID_ARGUMENT,
                              "Content-Type: must be application/json"));
      return true;
    }
    if (!ReadBody(conn, info, &request.body)) return true;
    if (route.endpoint == Endpoint::kCreateDownloadLink) {
      SendReply(conn, console_->downloads_.CreateLink(route, request));
    } else {
      SendReply(conn, console_->gateway_.Call(route, request));
    }
    return true;
  }

  // False (with the refusal sent) for a body over the limit.
  bool ReadBody(mg_connection* conn, const mg_request_info* info, std::string* body) {
    const size_t limit = console_->options_.max_body_bytes;
    if (info->content_length > static_cast<long long>(limit)) {
      SendReply(conn, Refusal(413, grpc::StatusCode::RESOURCE_EXHAUSTED,
                              absl::StrCat("request body: over ", limit, " bytes")));
      return false;
    }
    char buffer[16384];
    int got = 0;
    while ((got = mg_read(conn, buffer, sizeof(buffer))) > 0) {
      body->append(buffer, got);
      if (body->size() > limit) {
        SendReply(conn, Refusal(413, grpc::StatusCode::RESOURCE_EXHAUSTED,
                                absl::StrCat("request body: over ", limit, " bytes")));
        return false;
      }
    }
    return true;
  }

  ConsoleServer* console_;
};

ConsoleServer::ConsoleServer(ConsoleOptions options,
                             std::shared_ptr<grpc::ChannelInterface> channel)
    : options_(std::move(options)),
      gateway_(std::move(channel)),
      streams_(gateway_.stub(), options_.streams),
      downloads_(gateway_.stub(), &links_) {}

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Create(
    ConsoleOptions options, std::shared_ptr<grpc::ChannelInterface> channel) {
  std::unique_ptr<ConsoleServer> console(new ConsoleServer(std::move(options), channel));
  console->handler_ = std::make_unique<Handler>(console.get());
  // Each open event stream holds a thread; the others keep the page and the API answering.
  const int threads = std::max(console->options_.streams.max_streams, 0) + 8;
  const std::vector<std::string> civet_options = {"listening_ports",    console->options_.listen,
                                                  "num_threads",        std::to_string(threads),
                                                  "enable_keep_alive",  "no",
                                                  "request_timeout_ms", "60000"};
  try {
    console->http_ = std::make_unique<CivetServer>(civet_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("--console-listen: cannot listen on ",
                                               console->options_.listen, ": ", e.what()));
  }
  console->http_->addHandler("/", console->handler_.get());
  const std::vector<int> ports = console->http_->getListeningPorts();
  console->port_ = ports.empty() ? 0 : ports.front();
  return console;
}

void ConsoleServer::Stop() {
  if (http_ == nullptr) return;
  streams_.CancelAll();
  downloads_.CancelAll();
  http_->close();  // joins civetweb's threads, the streaming handlers among them
  http_.reset();
}

ConsoleServer::~ConsoleServer() { Stop(); }

}  // namespace ft::console
