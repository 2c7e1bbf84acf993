#!/usr/bin/env python3
# A fake WeChat for a fleet measurement: any article id, each request logged.
import sys, threading, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
tpl = open(sys.argv[2], encoding="utf-8").read()
log = open(sys.argv[3], "a")
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        mid = q.get("mid", ["0"])[0]
        body = tpl.replace("2247521893", mid).replace("Apache Tomcat 漏洞 &amp; 补丁分析", "舰队测试 " + mid).replace("TomcatRce2025xyz", "F" + mid).encode()
        with lock:
            log.write(mid + "\n"); log.flush()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
