// Where `ftctl watch` shows a job's events: plain lines (one per event, for pipes and logs), or a
// live progress line redrawn in place on a terminal with the other events printed above it.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "client/lib/display/sparkline.h"
#include "client/lib/display/terminal_style.h"
#include "ft/v1/event.pb.h"

namespace ft::client {

class WatchDisplay {
 public:
  virtual ~WatchDisplay() = default;
  virtual void OnEvent(const ft::v1::JobEvent& event) = 0;
  // A message of ftctl's own (reconnecting, ...) on `stream`, kept apart from the live line.
  virtual void Note(std::ostream& stream, const std::string& line) = 0;
  // Ends the live line, if any, so that what follows starts on a fresh line.
  virtual void Close() = 0;
};

// FormatEventLine per event, flushed at once.
std::unique_ptr<WatchDisplay> MakePlainDisplay(std::ostream& out);

// A progress bar redrawn with '\r' on each progress event; state changes, evaluations and logs as
// lines above it. `terminal_width` is asked at each redraw, so that a resized terminal is honoured.
// The line holds a sparkline of the training loss over the last 30 progress reports, drawn with
// `glyphs`. With an enabled `palette`, the bar is green and new states are coloured.
std::unique_ptr<WatchDisplay> MakeLiveDisplay(std::ostream& out,
                                              std::function<int()> terminal_width,
                                              SparkGlyphs glyphs = SparkGlyphs::kAscii,
                                              Palette palette = Palette());

}  // namespace ft::client
