// Short, stable names for why a check failed, for the record's "error" field:
// something a query can group by, while curl's own message goes to
// "error_detail".
#pragma once

#include <curl/curl.h>

namespace http_checker {

// `os_errno` is CURLINFO_OS_ERRNO; `body_cut` is true when the check itself
// stopped the transfer at max_body_bytes.
const char* classify(CURLcode code, long os_errno, bool body_cut);

}  // namespace http_checker
