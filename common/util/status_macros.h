// Early-return helpers for absl::Status (Abseil 20220623 on Debian 12 ships none).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FT_STATUS_CONCAT_INNER_(a, b) a##b
#define FT_STATUS_CONCAT_(a, b) FT_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define FT_RETURN_IF_ERROR(expr)              \
  do {                                        \
    const ::absl::Status ft_status_ = (expr); \
    if (!ft_status_.ok()) return ft_status_;  \
  } while (false)

// `FT_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from an OK StatusOr, else returns its status.
#define FT_ASSIGN_OR_RETURN(lhs, expr) \
  FT_ASSIGN_OR_RETURN_IMPL_(FT_STATUS_CONCAT_(ft_statusor_, __LINE__), lhs, expr)

#define FT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()
