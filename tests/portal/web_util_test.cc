#include "services/portal/web_util.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdp::portal {
namespace {

TEST(WebUtilTest, FormValuesDecodeAndKeepRepeats) {
  FormValues f("email=a%40b.nl&allow=x%2Fy&allow=z&empty=&flag&plus=a+b&bad=%zz");
  EXPECT_EQ(f.Get("email"), "a@b.nl");
  EXPECT_THAT(f.All("allow"), ::testing::ElementsAre("x/y", "z"));
  EXPECT_EQ(f.Get("empty"), "");
  EXPECT_TRUE(f.Has("flag"));
  EXPECT_EQ(f.Get("plus"), "a b");
  EXPECT_EQ(f.Get("bad"), "%zz");
  EXPECT_EQ(f.Get("missing"), "");
  EXPECT_TRUE(f.All("missing").empty());
}

TEST(WebUtilTest, UrlEncodeRoundTrips) {
  const std::string s = "a b/c?d=e&f#g+é";
  EXPECT_EQ(UrlEncode(s), "a%20b%2Fc%3Fd%3De%26f%23g%2B%C3%A9");
  EXPECT_EQ(UrlDecode(UrlEncode(s)), s);
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
}

TEST(WebUtilTest, CookiesFirstOfDuplicateNamesWins) {
  auto c = ParseCookies("a=1; b=two;a=3; =x; novalue");
  EXPECT_EQ(c["a"], "1");
  EXPECT_EQ(c["b"], "two");
  EXPECT_EQ(c.size(), 2u);
}

TEST(WebUtilTest, HtmlEscapeNeutralisesMarkup) {
  EXPECT_EQ(HtmlEscape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
}

TEST(WebUtilTest, JsonStringEscapesQuotesAndControls) {
  EXPECT_EQ(JsonString("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(WebUtilTest, OnlyLocalPathsAreRedirectTargets) {
  EXPECT_TRUE(IsLocalPath("/my/data?x=1"));
  EXPECT_TRUE(IsLocalPath("/"));
  EXPECT_FALSE(IsLocalPath("//evil.example/"));
  EXPECT_FALSE(IsLocalPath("/\\evil.example"));
  EXPECT_FALSE(IsLocalPath("https://evil.example/"));
  EXPECT_FALSE(IsLocalPath(""));
  EXPECT_FALSE(IsLocalPath("/a\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(IsLocalPath("/\t/evil.example"));
  EXPECT_FALSE(IsLocalPath("/a\\b"));
}

}  // namespace
}  // namespace cdp::portal
