#include "server/notify/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace ft::notify {
namespace {

bool InPrefix(uint32_t address, uint32_t prefix, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (address & mask) == (prefix & mask);
}

// `address` in host byte order.
bool IsInternalV4(uint32_t address) {
  struct Range {
    uint32_t prefix;
    int bits;
  };
  static constexpr Range kInternal[] = {
      {0x00000000, 8},   // 0.0.0.0/8: "this network"
      {0x0A000000, 8},   // 10.0.0.0/8
      {0x64400000, 10},  // 100.64.0.0/10: carrier-grade NAT
      {0x7F000000, 8},   // 127.0.0.0/8: loopback
      {0xA9FE0000, 16},  // 169.254.0.0/16: link-local, cloud metadata
      {0xAC100000, 12},  // 172.16.0.0/12
      {0xC0A80000, 16},  // 192.168.0.0/16
      {0xE0000000, 4},   // 224.0.0.0/4: multicast
      {0xF0000000, 4},   // 240.0.0.0/4: reserved, broadcast
  };
  for (const Range& range : kInternal) {
    if (InPrefix(address, range.prefix, range.bits)) return true;
  }
  return false;
}

bool IsInternalV6(const in6_addr& address) {
  const uint8_t* b = address.s6_addr;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMappedPrefix, 12) == 0) {
    return IsInternalV4((uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) |
                        b[15]);
  }
  static constexpr uint8_t kZero[15] = {};
  if (std::memcmp(b, kZero, 15) == 0 && b[15] <= 1) return true;  // :: and ::1
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;         // fe80::/10 link-local
  if ((b[0] & 0xfe) == 0xfc) return true;                         // fc00::/7 unique local
  if (b[0] == 0xff) return true;                                  // ff00::/8 multicast
  return false;
}

}  // namespace

bool IsInternalAddress(const sockaddr* address) {
  if (address == nullptr) return true;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return IsInternalV4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return IsInternalV6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return true;  // unix sockets and the like are never a webhook's place
}

bool IsInternalAddressText(const std::string& text) {
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return IsInternalAddress(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return IsInternalAddress(reinterpret_cast<const sockaddr*>(&v6));
  }
  return false;
}

bool MayConnect(const AddressPolicy& policy, const sockaddr* address) {
  return policy.allow_private || !IsInternalAddress(address);
}

}  // namespace ft::notify
