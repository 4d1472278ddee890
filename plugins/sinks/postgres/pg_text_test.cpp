#include "pg_text.h"

#include <gtest/gtest.h>

#include <random>

namespace pgsink {
namespace {

using namespace std::string_literals;

TEST(StorableText, ValidTextIsKept) {
  EXPECT_EQ(storable_text("plain \t\n h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "plain \t\n h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(storable_text(""), "");
}

TEST(StorableText, NulBecomesBackslashZero) {
  EXPECT_EQ(storable_text("a\0b\0"s), "a\\0b\\0");
}

TEST(StorableText, InvalidSequencesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(storable_text("bad \xE2\x82"), "bad " + fffd);          // cut at the end
  EXPECT_EQ(storable_text("\xE2\x82x"), fffd + "x");                // cut in the middle
  EXPECT_EQ(storable_text("\xFF\xFE"), fffd + fffd);                // never valid
  EXPECT_EQ(storable_text("\xC0\xAF"), fffd + fffd);                // overlong '/'
  EXPECT_EQ(storable_text("\xED\xA0\x80"), fffd + fffd + fffd);     // a surrogate
  EXPECT_EQ(storable_text("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(storable_text("\x80" "a"), fffd + "a");                 // a lone continuation byte
}

TEST(StorableText, LongTextIsCutOnACharacterBoundary) {
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";
  const std::string cut = storable_text(euros, 20);
  EXPECT_EQ(cut, "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC...");  // 5 whole euros, then ...
  EXPECT_LE(cut.size(), 20u);
  EXPECT_EQ(storable_text("exactly", 7), "exactly");
  EXPECT_EQ(storable_text("abcdefgh", 7), "abcd...");
  // Escapes count towards the limit: the result is never longer.
  EXPECT_LE(storable_text(std::string(100, '\0'), 10).size(), 10u);
}

TEST(StorableText, AnyBytesGiveTextThatIsItsOwnStorableForm) {
  std::mt19937 rng(12);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 0x80 : rng() % 256);
    const size_t max = 5 + rng() % 30;
    const std::string text = storable_text(bytes, max);
    EXPECT_LE(text.size(), max);
    EXPECT_EQ(text.find('\0'), std::string::npos);
    // Valid UTF-8 without NUL is kept as it is: the result needs nothing more.
    EXPECT_EQ(storable_text(text), text);
  }
}

TEST(Utf8Prefix, NeverEndsInsideACharacter) {
  EXPECT_EQ(utf8_prefix_length("\xC3\xA9\xC3\xA9", 3), 2u);
  EXPECT_EQ(utf8_prefix_length("\xC3\xA9\xC3\xA9", 4), 4u);
  EXPECT_EQ(utf8_prefix_length("ab\xF0\x9F\x98\x80", 5), 2u);
  EXPECT_EQ(utf8_prefix_length("abc", 10), 3u);
}

}  // namespace
}  // namespace pgsink
