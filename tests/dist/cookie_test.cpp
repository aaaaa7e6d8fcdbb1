// The default cookie: ~/.erlang.cookie, made as Erlang makes it when missing, and refused
// (as Erlang refuses it) when others may read it.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "child_process.hpp"
#include "cookie.hpp"

namespace spindle::dist {
namespace {

// $HOME pointed at a fresh directory for the test's duration.
class CookieTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* home = std::getenv("HOME")) saved_ = home;
    ::setenv("HOME", home_.path().c_str(), 1);
  }
  void TearDown() override {
    if (saved_) ::setenv("HOME", saved_->c_str(), 1);
  }
  std::string file() const { return (home_ / ".erlang.cookie").string(); }

  test::TempDir home_;
  std::optional<std::string> saved_;
};

TEST_F(CookieTest, AMissingCookieFileIsCreatedForItsOwnerOnly) {
  const std::string cookie = default_cookie();
  EXPECT_EQ(cookie.size(), 20u);
  for (char c : cookie) EXPECT_TRUE(c >= 'A' && c <= 'Z') << cookie;
  struct stat st {};
  ASSERT_EQ(::stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
  EXPECT_EQ(default_cookie(), cookie);  // read back the next time
  test::TempDir other;
  ::setenv("HOME", other.path().c_str(), 1);
  EXPECT_NE(default_cookie(), cookie);  // another home, another random cookie
}

TEST_F(CookieTest, AnExistingFileIsReadWithoutItsTrailingNewline) {
  std::ofstream(file()) << "secret-cookie\n";
  ::chmod(file().c_str(), 0400);
  EXPECT_EQ(default_cookie(), "secret-cookie");
}

TEST_F(CookieTest, AFileOthersCanReadIsRefusedAsErlangRefusesIt) {
  std::ofstream(file()) << "secret-cookie";
  ::chmod(file().c_str(), 0644);
  try {
    default_cookie();
    FAIL() << "a world-readable cookie file was used";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("owner only"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret-cookie"), std::string::npos) << "the cookie was shown";
  }
}

TEST_F(CookieTest, AnEmptyFileIsAnError) {
  std::ofstream(file()) << "\n";
  ::chmod(file().c_str(), 0400);
  EXPECT_THROW(default_cookie(), std::runtime_error);
}

}  // namespace
}  // namespace spindle::dist
