// Metrics of ftd's housekeeping (kept apart from server_metrics.h): the disk that its home uses
// the jobs that retention deleted, and the token cache's size and evictions.
#pragma once

#include <cstdint>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace ft::metrics {

class HousekeepingMetrics {
 public:
  explicit HousekeepingMetrics(prometheus::Registry& registry);

  void SetHomeDiskBytes(uint64_t bytes) { home_disk_bytes_->Set(static_cast<double>(bytes)); }
  void OnRetention(int jobs_deleted, int checkpoints_removed);
  void OnTokenCacheTrim(int entries_removed, uint64_t bytes_kept);

 private:
  prometheus::Gauge* home_disk_bytes_;
  prometheus::Counter* jobs_deleted_;
  prometheus::Counter* checkpoints_removed_;
  prometheus::Counter* token_cache_evictions_;
  prometheus::Gauge* token_cache_bytes_;
};

}  // namespace ft::metrics
