// A listening TCP socket on 127.0.0.1 with a port chosen by the kernel, for the webhook tests'
// receivers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ft::notify {

// The socket's descriptor; its port in `*port`. `type_flags`: e.g. SOCK_NONBLOCK.
inline int ListenOnLoopback(int* port, int type_flags = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM | type_flags, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  listen(fd, 16);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

}  // namespace ft::notify
