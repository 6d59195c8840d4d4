// Metrics of ftd's housekeeping (kept apart from server_metrics.h): the disk that its home uses
// and the jobs that retention deleted.
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

 private:
  prometheus::Gauge* home_disk_bytes_;
  prometheus::Counter* jobs_deleted_;
  prometheus::Counter* checkpoints_removed_;
};

}  // namespace ft::metrics
