// Which network addresses a job's webhook may reach. A URL given by a user must not become a
// way into ftd's own network, so by default it may not reach:
//   loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16 with the clouds' metadata service,
//   fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7), shared CGNAT (100.64/10),
//   unspecified (0.0.0.0/8, ::), multicast and broadcast.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry. The
// check is made on the address each connection is about to use (webhook_sender.h), after DNS,
// so a name that resolves differently at delivery time (DNS rebinding) is caught too.
#pragma once

#include <sys/socket.h>

#include <string>

namespace ft::notify {

struct AddressPolicy {
  // --webhook-allow-private: jobs' URLs may reach every address above.
  bool allow_private = false;
};

// True when `address` (AF_INET or AF_INET6) is one of the classes above.
bool IsInternalAddress(const sockaddr* address);
// The same for a numeric address text ("10.1.2.3", "::1"); false for text that is not one.
bool IsInternalAddressText(const std::string& text);
// True when the policy lets a job's webhook connect to `address`.
bool MayConnect(const AddressPolicy& policy, const sockaddr* address);

}  // namespace ft::notify
