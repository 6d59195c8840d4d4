// The web console: a small HTTP server (civetweb) with the page (assets.h), the JSON API
// (json_gateway.h) and the event streams (event_stream.h), all onto ftd's own gRPC API through
// an in-process channel. Off unless ftd is given --console-listen (docs/console.md).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/console/artifact_download.h"
#include "server/console/download_links.h"
#include "server/console/event_stream.h"
#include "server/console/json_gateway.h"

class CivetServer;

namespace ft::console {

struct ConsoleOptions {
  std::string listen;  // HOST:PORT (port 0: any free port)
  EventStreamOptions streams;
  size_t max_body_bytes = 4 << 20;  // largest request body (a SubmitJob's JSON)
};

class ConsoleServer {
 public:
  // Serves on options.listen at once; `channel` reaches the FinetuneService.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Create(
      ConsoleOptions options, std::shared_ptr<grpc::ChannelInterface> channel);
  ~ConsoleServer();

  int port() const { return port_; }
  // Ends the open event streams and stops serving; waits for the handlers. Idempotent.
  void Stop();

 private:
  class Handler;
  ConsoleServer(ConsoleOptions options, std::shared_ptr<grpc::ChannelInterface> channel);

  const ConsoleOptions options_;
  JsonGateway gateway_;
  EventStreams streams_;
  DownloadLinks links_;
  ArtifactDownloads downloads_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> http_;  // after handler_ and streams_: stops before they go
  int port_ = 0;
};

}  // namespace ft::console
