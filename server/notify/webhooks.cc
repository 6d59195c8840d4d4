#include "server/notify/webhooks.h"

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"
#include "server/notify/webhook_signer.h"
#include "server/notify/webhook_url.h"
#include "spdlog/spdlog.h"

namespace ft::notify {
namespace {

WebhookTapOptions TapOptions(const WebhookOptions& options) {
  WebhookTapOptions tap;
  tap.operator_urls = options.urls;
  tap.evaluations = options.evaluations;
  return tap;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Webhooks>> Webhooks::Create(WebhookOptions options) {
  for (const std::string& url : options.urls) {
    FT_RETURN_IF_ERROR(ParseWebhookUrl(url, "--webhook-url").status());
  }
  std::string secret;
  if (!options.secret_file.empty()) {
    FT_ASSIGN_OR_RETURN(secret, ReadWebhookSecret(options.secret_file));
  }
  if (options.schedule.base <= absl::ZeroDuration() || options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--webhook-retry-base-seconds and --webhook-timeout-seconds must be positive");
  }
  return std::unique_ptr<Webhooks>(new Webhooks(std::move(options), std::move(secret)));
}

Webhooks::Webhooks(WebhookOptions options, std::string secret)
    : options_(std::move(options)), secret_(std::move(secret)), tap_(TapOptions(options_)) {}

Webhooks::~Webhooks() { Stop(); }

void Webhooks::Start(store::JobStore* store, sched::Clock* clock,
                     metrics::WebhookMetrics* metrics) {
  if (secret_.empty() && !options_.urls.empty()) {
    spdlog::warn(
        "webhooks are sent unsigned: give --webhook-secret-file so that receivers can "
        "check that they come from this ftd");
  }
  outbox_ = std::make_unique<Outbox>(store);
  DeliveryLoopOptions loop;
  loop.senders = options_.concurrency;
  loop.schedule = options_.schedule;
  SenderOptions sender;
  sender.secret = secret_;
  sender.ca_file = options_.ca_file;
  sender.timeout = options_.timeout;
  sender.policy = options_.policy;
  loop_ = DeliveryLoop::Start(loop, sender, outbox_.get(), clock, metrics);
  tap_.SetOnRowsAdded([raw = loop_.get()] { raw->Wake(); });
}

void Webhooks::Stop() {
  tap_.SetOnRowsAdded(nullptr);
  if (loop_ != nullptr) loop_->Stop();
}

}  // namespace ft::notify
