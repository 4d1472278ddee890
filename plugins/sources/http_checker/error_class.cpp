#include "error_class.h"

#include <cerrno>

namespace http_checker {

const char* classify(CURLcode code, long os_errno, bool body_cut) {
  switch (code) {
    case CURLE_OK: return nullptr;
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
    case CURLE_COULDNT_CONNECT:
      switch (os_errno) {
        case ECONNREFUSED: return "connect_refused";
        case ENETUNREACH:
        case EHOSTUNREACH: return "unreachable";
        default: return "connect_failed";
      }
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED: return "tls";
    case CURLE_TOO_MANY_REDIRECTS: return "too_many_redirects";
    case CURLE_FILESIZE_EXCEEDED: return "body_too_large";
    case CURLE_WRITE_ERROR: return body_cut ? "body_too_large" : "write_error";
    case CURLE_GOT_NOTHING: return "empty_reply";
    case CURLE_PARTIAL_FILE: return "partial_body";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: return "connection_lost";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING: return "protocol";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return "bad_url";
    default: return "other";
  }
}

}  // namespace http_checker
