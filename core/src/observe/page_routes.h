// The status page at `/`: its files, compiled into the binary, served with
// a Content-Security-Policy that lets the page load nothing but itself.
#pragma once

namespace httplib { class Server; }

namespace sluice {

// GET /, /static/app.js, /static/style.css, /favicon.svg. The page reads
// /api/status, /api/rejects and /api/tap, which other route modules serve.
void add_page_routes(httplib::Server& server);

}  // namespace sluice
