// Owners for the C handles of libcurl and PCRE2, so no error path can leak one.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <pcre2.h>

#include <memory>

namespace http_checker {

struct CurlEasyFree { void operator()(CURL* h) const { curl_easy_cleanup(h); } };
struct CurlMultiFree { void operator()(CURLM* h) const { curl_multi_cleanup(h); } };
struct CurlSlistFree { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };
struct CurlUrlFree { void operator()(CURLU* u) const { curl_url_cleanup(u); } };
struct Pcre2CodeFree { void operator()(pcre2_code* c) const { pcre2_code_free(c); } };
struct Pcre2MatchDataFree { void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); } };

using CurlEasy = std::unique_ptr<CURL, CurlEasyFree>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiFree>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlFree>;
using Pcre2Code = std::unique_ptr<pcre2_code, Pcre2CodeFree>;
using Pcre2MatchData = std::unique_ptr<pcre2_match_data, Pcre2MatchDataFree>;

}  // namespace http_checker
