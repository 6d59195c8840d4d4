// Who is calling: the user (or worker) a bearer token names, and its role.
#pragma once

#include <string>

namespace ft::auth {

enum class Role { kUser, kAdmin, kWorker };

struct Principal {
  std::string user;  // owner name stored with the jobs this caller submits
  Role role = Role::kUser;
};

// "user", "admin", "worker".
const char* RoleName(Role role);

}  // namespace ft::auth
