// ftctl walked through as a person would, against the real ftd and ftworker: in a real terminal
// (a tmux pane, captured with its colour attributes) the watch draws a coloured progress bar;
// piped, the same verb prints plain lines with no escape at all. Then the verbs a new user reaches
// for next (get -o yaml, events, logs, wait, retry, exit codes) and the bash completion of job ids.
// Every wait polls with a deadline; nothing sleeps a fixed time to let things happen.
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/prerequisite.h"
#include "tests/support/run_command.h"

namespace ft::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Quoted for sh.
std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult Shell(const std::string& script) { return RunCommand({"/bin/sh", "-c", script}); }

// A private tmux server (its own socket) with one 120x40 pane running a command.
class TmuxPane {
 public:
  TmuxPane(const std::string& socket, const std::string& command) : socket_(socket) {
    started_ = Tmux("new-session -d -s ft -x 120 -y 40 " + Quote(command)).exit_status == 0;
  }
  ~TmuxPane() { Tmux("kill-server"); }
  bool started() const { return started_; }

  // The pane's text; with `escapes`, its colours and attributes as SGR sequences too.
  std::string Capture(bool escapes) {
    return Tmux(std::string("capture-pane -p -J -S -100 -t ft") + (escapes ? " -e" : "")).output;
  }

  // Polls the pane until `marker` shows up or `timeout` passes; returns the last capture.
  std::string WaitFor(const std::string& marker, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text;
    while (true) {
      text = Capture(false);
      if (text.find(marker) != std::string::npos) return text;
      if (std::chrono::steady_clock::now() > deadline) return text;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  CommandResult Tmux(const std::string& args) {
    return Shell("tmux -S " + Quote(socket_) + " " + args);
  }
  std::string socket_;
  bool started_ = false;
};

class FtctlTerminalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    csv_ = dir_->Path("toy.csv");
    WriteToyCsv(csv_, 96, 3);
    ftd_ = new FtdProcess(FtdProcessOptions{dir_->Path("home"), 1, {}});
    ftd_->Start();
  }
  static void TearDownTestSuite() {
    delete ftd_;
    delete dir_;
  }

  // "ftctl --server ADDR" for a shell line; NO_COLOR, FTD_* and any config file of the caller
  // are left out so that only what the test sets (`env`: "NAME=value ...") counts.
  static std::string Ftctl(const std::string& env = "", bool with_server = true) {
    return "env -u NO_COLOR -u FTD_SERVER -u FTD_TOKEN -u FT_SERVER -u FTCTL_CONFIG " +
           Quote("XDG_CONFIG_HOME=" + dir_->Path("no-config")) + " " + env +
           Quote(BinaryPath("ftctl")) + (with_server ? " --server " + ftd_->address() : "");
  }
  static std::string SubmitLine(const std::string& name) {
    return Ftctl() + " submit --model scratch:bloom-tiny --train " + Quote(csv_) +
           " --validation-fraction 0.25 --micro-batch-size 4 --accumulation-steps 2 --epochs 1 "
           "--max-steps 6 --max-seq-length 64 --log-every-steps 1 --seed 7 --name " +
           name + " --watch";
  }

  static TempDir* dir_;
  static std::string csv_;
  static FtdProcess* ftd_;
};

TempDir* FtctlTerminalTest::dir_ = nullptr;
std::string FtctlTerminalTest::csv_;
FtdProcess* FtctlTerminalTest::ftd_ = nullptr;

bool HasTmux() { return Shell("command -v tmux").exit_status == 0; }

TEST_F(FtctlTerminalTest, InATerminalColoursAndAProgressBarPipedNeither) {
  if (!HasTmux()) FT_SKIP_PREREQUISITE_MISSING() << "no tmux (scripts/install-test-deps.sh installs it)";
  // In a terminal: the job's states in colour and the bar drawn in place.
  TmuxPane pane(dir_->Path("tmux.sock"),
                "TERM=xterm-256color " + SubmitLine("in-tmux") + "; echo EXIT=$?; sleep 300");
  ASSERT_TRUE(pane.started());
  const std::string text = pane.WaitFor("EXIT=", std::chrono::seconds(100));
  ASSERT_THAT(text, HasSubstr("EXIT=0")) << text << ftd_->Log();
  // The last drawing of the bar stays on screen: "step 6/6 [====...====] 100% loss ...".
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(step 6/6 \[=+\] 100% loss \d)"))) << text;
  EXPECT_THAT(text, HasSubstr("SUCCEEDED"));
  const std::string styled = pane.Capture(true);
  // The bar in green, the final state in green (tmux writes its own SGR form of each colour).
  EXPECT_TRUE(std::regex_search(styled, std::regex("\x1b\\[[0-9;]*32m\\[=+\\]"))) << styled;
  EXPECT_TRUE(std::regex_search(styled, std::regex("\x1b\\[[0-9;]*32mSUCCEEDED"))) << styled;
  // Redrawn in place, not one line per report: a single bar line per drawing position.
  EXPECT_EQ(text.find("step 1/6 ["), std::string::npos) << text;

  // Piped: one plain line per event, not a single escape or carriage return.
  const CommandResult piped = Shell(SubmitLine("piped") + " | cat");
  ASSERT_EQ(piped.exit_status, 0) << piped.output;
  EXPECT_THAT(piped.output, HasSubstr("step 1/6 epoch 1 loss "));
  EXPECT_THAT(piped.output, HasSubstr("step 6/6 epoch 1 loss "));
  EXPECT_THAT(piped.output, HasSubstr("SUCCEEDED"));
  EXPECT_THAT(piped.output, Not(HasSubstr("\x1b")));
  EXPECT_THAT(piped.output, Not(HasSubstr("\r")));
}

TEST_F(FtctlTerminalTest, NoColorAndColorFlagsInATerminal) {
  if (!HasTmux()) FT_SKIP_PREREQUISITE_MISSING() << "no tmux";
  // A job to list (any state has a colour).
  const CommandResult submitted = Shell(Ftctl() + " submit --model scratch:bloom-tiny --train " +
                                        Quote(csv_) + " --max-steps 1 --micro-batch-size 4");
  ASSERT_EQ(submitted.exit_status, 0) << submitted.output;
  struct Case {
    std::string env;
    std::string flag;
    bool coloured;
  };
  const std::vector<Case> cases = {{"", "", true},
                                   {"NO_COLOR=1 ", "", false},
                                   {"", " --color never", false},
                                   {"NO_COLOR=1 ", " --color always", true}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    TmuxPane pane(
        dir_->Path("list" + std::to_string(i) + ".sock"),
        "TERM=xterm-256color " + Ftctl(c.env) + c.flag + " list; echo EXIT=$?; sleep 300");
    ASSERT_TRUE(pane.started());
    ASSERT_THAT(pane.WaitFor("EXIT=", std::chrono::seconds(30)), HasSubstr("EXIT=0"));
    const std::string styled = pane.Capture(true);
    const std::regex coloured_state("\x1b\\[[0-9;]*3[1-6]m(QUEUED|RUNNING|SUCCEEDED)");
    EXPECT_EQ(std::regex_search(styled, coloured_state), c.coloured) << c.env << c.flag << "\n"
                                                                     << styled;
  }
}

TEST_F(FtctlTerminalTest, ANewUsersWalkThroughTheVerbsAndExitCodes) {
  const CommandResult done = Shell(SubmitLine("walk") + " >/dev/null; " + Ftctl() +
                                   " list --state succeeded -o ids --limit 1");
  ASSERT_EQ(done.exit_status, 0) << done.output;
  const std::string id = done.output.substr(0, done.output.find('\n'));
  ASSERT_THAT(id, ::testing::StartsWith("job-"));

  const CommandResult yaml = Shell(Ftctl() + " get " + id + " -o yaml");
  EXPECT_EQ(yaml.exit_status, 0);
  EXPECT_THAT(yaml.output, HasSubstr("\nstate: \"SUCCEEDED\"\n"));
  const CommandResult events = Shell(Ftctl() + " events " + id + " -o json");
  EXPECT_EQ(events.exit_status, 0);
  EXPECT_THAT(events.output, HasSubstr("\"to\":\"SUCCEEDED\""));
  const CommandResult wait = Shell(Ftctl() + " wait " + id);
  EXPECT_EQ(wait.exit_status, 0) << wait.output;
  EXPECT_THAT(wait.output, HasSubstr(id + " SUCCEEDED"));
  const CommandResult logs = Shell(Ftctl() + " logs " + id);
  EXPECT_EQ(logs.exit_status, 0) << logs.output;

  // Exit codes: unknown job 3, unreachable 4, refused 6, usage 2.
  EXPECT_EQ(Shell(Ftctl() + " get job-404").exit_status, 3);
  EXPECT_EQ(Shell(Ftctl("", false) + " --server 127.0.0.1:1 --timeout 2 list").exit_status, 4);
  const CommandResult refused = Shell(Ftctl() + " retry " + id);
  EXPECT_EQ(refused.exit_status, 6) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("is SUCCEEDED; retry resubmits only FAILED or CANCELLED"));
  EXPECT_EQ(Shell(Ftctl() + " list -o xml").exit_status, 2);
  EXPECT_EQ(Shell(Ftctl() + " submit --model m --train t.csv --watch -o json").exit_status, 2);

  // The stored spec goes back through ftd's validation as it is; cancelled at once, waited for.
  const CommandResult retried = Shell(Ftctl() + " retry " + id + " --force");
  ASSERT_EQ(retried.exit_status, 0) << retried.output;
  std::string new_id = retried.output.substr(retried.output.rfind("job-"));
  new_id = new_id.substr(0, new_id.find('\n'));
  EXPECT_THAT(retried.output, HasSubstr(id + " (SUCCEEDED) resubmitted as "));
  const CommandResult cancelled =
      Shell(Ftctl() + " cancel " + new_id + "; " + Ftctl() + " wait " + new_id + " --timeout 60");
  EXPECT_EQ(cancelled.exit_status, 5) << cancelled.output;

  // Bash completion asks this ftd for the job ids.
  const CommandResult completed =
      RunCommand({"bash", "-c",
                  "source <(" + Ftctl() + " completion bash) && COMP_WORDS=(" +
                      Quote(BinaryPath("ftctl")) + " --server " + ftd_->address() +
                      " get job-) && COMP_CWORD=4 && _ftctl && "
                      "printf '%s\\n' \"${COMPREPLY[@]}\""});
  EXPECT_EQ(completed.exit_status, 0) << completed.output;
  EXPECT_THAT(completed.output, HasSubstr(id + "\n"));
  EXPECT_THAT(completed.output, HasSubstr(new_id));
}

}  // namespace
}  // namespace ft::testing
