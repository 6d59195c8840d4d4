// ftctl's verb table: every entry complete, the parser built from it, and a parsed verb running
// only its own entry.
#include "client/lib/cmd/verb_table.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

TEST(VerbTableTest, EveryVerbHasANameHelpFlagsAndARunFunction) {
  std::set<std::string> names;
  for (const Verb& verb : FtctlVerbs()) {
    EXPECT_TRUE(names.insert(verb.name).second) << "twice: " << verb.name;
    EXPECT_FALSE(verb.help.empty()) << verb.name;
    EXPECT_TRUE(verb.add_flags) << verb.name;
    EXPECT_TRUE(verb.run) << verb.name;
  }
  EXPECT_EQ(names.size(), 17u);
}

TEST(VerbTableTest, HelpListsTheTablesVerbs) {
  const std::vector<Verb> verbs = FtctlVerbs();
  CLI::App app{"ftctl"};
  AddVerbs(app, verbs);
  const std::string help = app.help();
  for (const Verb& verb : verbs) {
    EXPECT_TRUE(absl::StrContains(help, verb.name)) << verb.name << " missing from\n" << help;
  }
}

TEST(VerbTableTest, TheParsedVerbRunsAndNoOther) {
  std::vector<std::string> ran;
  auto make = [&ran](const std::string& name) {
    Verb verb;
    verb.name = name;
    verb.help = "the " + name + " verb";
    verb.add_flags = [](CLI::App& app) { app.add_flag("--flag"); };
    verb.run = [&ran, name](const VerbContext&) {
      ran.push_back(name);
      return 0;
    };
    return verb;
  };
  const std::vector<Verb> verbs = {make("first"), make("second"), make("last")};
  for (const char* chosen : {"first", "second", "last"}) {
    CLI::App app{"test"};
    app.require_subcommand(1);
    const std::vector<CLI::App*> subcommands = AddVerbs(app, verbs);
    std::vector<std::string> args = {chosen, "--flag"};
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
    const Verb* verb = ParsedVerb(verbs, subcommands);
    ASSERT_NE(verb, nullptr);
    ran.clear();
    verb->run(VerbContext());
    EXPECT_EQ(ran, std::vector<std::string>{chosen});
  }
}

TEST(VerbTableTest, NoVerbParsedIsNull) {
  const std::vector<Verb> verbs = FtctlVerbs();
  CLI::App app{"ftctl"};
  const std::vector<CLI::App*> subcommands = AddVerbs(app, verbs);
  std::vector<std::string> none;
  app.parse(none);
  EXPECT_EQ(ParsedVerb(verbs, subcommands), nullptr);
}

TEST(VerbTableTest, WatchWithDataOutputIsAUsageError) {
  std::vector<Verb> verbs = FtctlVerbs();
  CLI::App app{"ftctl"};
  const std::vector<CLI::App*> subcommands = AddVerbs(app, verbs);
  std::vector<std::string> args = {"json", "-o", "--watch", "job-1", "retry"};
  app.parse(args);
  const Verb* verb = ParsedVerb(verbs, subcommands);
  ASSERT_NE(verb, nullptr);
  EXPECT_EQ(verb->name, "retry");
  ASSERT_TRUE(verb->check);
  EXPECT_TRUE(absl::StrContains(verb->check().message(), "--watch prints event lines, not json"));
  ASSERT_TRUE(verb->follows);
  EXPECT_TRUE(verb->follows());
}

}  // namespace
}  // namespace ft::client
