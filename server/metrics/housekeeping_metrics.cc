#include "server/metrics/housekeeping_metrics.h"

namespace ft::metrics {

HousekeepingMetrics::HousekeepingMetrics(prometheus::Registry& registry)
    : home_disk_bytes_(&prometheus::BuildGauge()
                            .Name("ft_home_disk_bytes")
                            .Help("Bytes of files under ftd's home (database, job folders, "
                                  "worker logs, token cache), measured at each retention pass")
                            .Register(registry)
                            .Add({})),
      jobs_deleted_(&prometheus::BuildCounter()
                         .Name("ft_retention_deleted_jobs_total")
                         .Help("Ended jobs deleted by the retention policy")
                         .Register(registry)
                         .Add({})),
      checkpoints_removed_(&prometheus::BuildCounter()
                                .Name("ft_retention_removed_checkpoints_total")
                                .Help("Checkpoint folders of succeeded jobs removed by retention")
                                .Register(registry)
                                .Add({})),
      token_cache_evictions_(&prometheus::BuildCounter()
                                  .Name("ft_token_cache_evictions_total")
                                  .Help("Tokenized splits removed from the token cache to stay "
                                        "within --token-cache-budget-mb")
                                  .Register(registry)
                                  .Add({})),
      token_cache_bytes_(&prometheus::BuildGauge()
                              .Name("ft_token_cache_bytes")
                              .Help("Bytes of tokenized splits in the token cache after the "
                                    "last retention pass")
                              .Register(registry)
                              .Add({})) {}

void HousekeepingMetrics::OnRetention(int jobs_deleted, int checkpoints_removed) {
  jobs_deleted_->Increment(jobs_deleted);
  checkpoints_removed_->Increment(checkpoints_removed);
}

void HousekeepingMetrics::OnTokenCacheTrim(int entries_removed, uint64_t bytes_kept) {
  token_cache_evictions_->Increment(entries_removed);
  token_cache_bytes_->Set(static_cast<double>(bytes_kept));
}

}  // namespace ft::metrics
