#include "client/lib/display/watch_display.h"

#include <optional>

#include "client/lib/display/progress_bar.h"
#include "client/lib/format/event_format.h"
#include "client/lib/format/text_util.h"

namespace ft::client {
namespace {

class PlainDisplay final : public WatchDisplay {
 public:
  explicit PlainDisplay(std::ostream& out) : out_(out) {}
  void OnEvent(const ft::v1::JobEvent& event) override {
    out_ << FormatEventLine(event) << std::endl;
  }
  void Note(std::ostream& stream, const std::string& line) override {
    out_.flush();
    stream << line << std::endl;
  }
  void Close() override { out_.flush(); }

 private:
  std::ostream& out_;
};

class LiveDisplay final : public WatchDisplay {
 public:
  LiveDisplay(std::ostream& out, std::function<int()> terminal_width, SparkGlyphs glyphs,
              Palette palette)
      : out_(out), terminal_width_(std::move(terminal_width)), glyphs_(glyphs), palette_(palette) {}

  void OnEvent(const ft::v1::JobEvent& event) override {
    switch (event.kind_case()) {
      case ft::v1::JobEvent::kProgress:
        progress_ = event.progress();
        loss_history_.Add(event.progress().loss());
        Redraw();
        return;
      case ft::v1::JobEvent::kEvaluation:
        if (event.evaluation().split() == "validation") {
          val_accuracy_ = event.evaluation().accuracy();
        }
        break;
      case ft::v1::JobEvent::kStateChange:
        PrintAbove(out_, ColorFinalState(FormatEventLine(event), event.state_change().to()));
        return;
      default:
        break;
    }
    PrintAbove(out_, FormatEventLine(event));
  }

  void Note(std::ostream& stream, const std::string& line) override { PrintAbove(stream, line); }

  void Close() override {
    if (bar_shown_) out_ << '\n';
    bar_shown_ = false;
    out_.flush();
  }

 private:
  static constexpr const char* kClearLine = "\r\033[K";
  static constexpr size_t kTrendLength = 30;  // progress reports in the loss sparkline

  void PrintAbove(std::ostream& stream, const std::string& line) {
    if (bar_shown_) out_ << kClearLine << std::flush;
    bar_shown_ = false;
    stream << line << '\n' << std::flush;
    if (progress_) Redraw();
  }

  // The last mention of the new state's name, painted.
  std::string ColorFinalState(std::string line, ft::v1::JobState state) const {
    const std::string name = StateName(state);
    const size_t at = line.rfind(name);
    if (!palette_.enabled() || at == std::string::npos) return line;
    return line.replace(at, name.size(), palette_.State(state));
  }

  // The bar ("[=====>   ]") painted green; the rest as it is.
  std::string ColorBar(std::string line) const {
    const size_t open = line.find(" [");
    const size_t close = open == std::string::npos ? open : line.find(']', open);
    if (!palette_.enabled() || close == std::string::npos) return line;
    return line.replace(open + 1, close - open,
                        palette_.Paint(Color::kGreen, line.substr(open + 1, close - open)));
  }

  void Redraw() {
    out_ << kClearLine
         << ColorBar(RenderProgressBar(*progress_, val_accuracy_, terminal_width_(),
                                       loss_history_.values(), glyphs_))
         << std::flush;
    bar_shown_ = true;
  }

  std::ostream& out_;
  const std::function<int()> terminal_width_;
  const SparkGlyphs glyphs_;
  const Palette palette_;
  SparkHistory loss_history_{kTrendLength};
  std::optional<ft::v1::TrainingProgress> progress_;
  std::optional<double> val_accuracy_;
  bool bar_shown_ = false;
};

}  // namespace

std::unique_ptr<WatchDisplay> MakePlainDisplay(std::ostream& out) {
  return std::make_unique<PlainDisplay>(out);
}

std::unique_ptr<WatchDisplay> MakeLiveDisplay(std::ostream& out,
                                              std::function<int()> terminal_width,
                                              SparkGlyphs glyphs, Palette palette) {
  return std::make_unique<LiveDisplay>(out, std::move(terminal_width), glyphs, palette);
}

}  // namespace ft::client
