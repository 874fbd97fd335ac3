"""`make demo`'s script: it seeds a database, prints credentials and a curl line, and
serves; the printed curl line, pasted into a shell, lists grant requests."""

import json
import os
import socket
import subprocess
import tempfile
import time

import grantd_harness as H


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_demo_prints_a_working_curl_line():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    d = tempfile.mkdtemp(prefix="grantd-demo-")
    env = dict(os.environ, DEMO_DB=os.path.join(d, "demo.db"), DEMO_GRANTS="50",
               DEMO_LISTEN="127.0.0.1:%d" % free_port())
    p = subprocess.Popen(["sh", os.path.join(root, "tools", "demo.sh"), H.GRANTD_BIN],
                         cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        out, line = [], None
        deadline = time.time() + 120
        while time.time() < deadline:
            text = p.stdout.readline()
            if not text:
                break
            out.append(text)
            if text.strip().startswith("TOKEN="):
                line = text.strip()
            if "listening on" in text:
                break
        assert line, "no curl line printed:\n" + "".join(out)
        r = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60)
        body = json.loads(r.stdout)
        assert len(body["records"]["grant_request"]) == 3
        assert body["total_entries"] == 50
    finally:
        p.terminate()
        p.wait(timeout=10)
