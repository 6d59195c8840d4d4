// Client side of ftd's security: a channel that sends `authorization: Bearer TOKEN` on every call
// and, when asked, speaks TLS. Used by ftctl, ftworker and the tests.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace ft::net {

struct ChannelSecurity {
  std::string token;  // bearer token; empty: none
  // TLS: the CA certificate (PEM file) that signed ftd's certificate; empty: plaintext.
  std::string tls_ca_file;
  // Optional client certificate and key (PEM files), for a server that requires them.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Name to check in the server's certificate instead of the address' host.
  std::string tls_server_name;
};

// INVALID_ARGUMENT naming the flag when a PEM file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ChannelSecurity& security,
                                                           grpc::ChannelArguments args = {});

// Reads a whole file; NOT_FOUND naming `what` when it cannot.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace ft::net
