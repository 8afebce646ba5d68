"""lib.alerts: message format, redaction, delivery to a local HTTP server, and no exception when undeliverable."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kol_pipeline.lib.quality import alerts


class _Sink:
    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers["Content-Length"])
                sink.bodies.append(json.loads(self.rfile.read(n).decode("utf-8")))
                sink.headers.append(dict(self.headers))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook/SECRETPATH?token=abc123"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_format_run_failure_text_and_payload():
    a = alerts.format_run_failure(
        "r-1", "daily_job", ["notes", "creators", "notes"], "  boom  ", partition="2025-03-01"
    )
    assert a.failed_steps == ("creators", "notes")
    assert a.text == (
        "kol_pipeline: run of daily_job failed\njob: daily_job\nrun: r-1\npartition: 2025-03-01\n"
        "failed steps: creators, notes\nerror: boom"
    )
    p = a.payload()
    assert p["run_id"] == "r-1" and p["job_name"] == "daily_job" and p["failed_steps"] == ["creators", "notes"]
    assert p["text"] == a.text and p["partition"] == "2025-03-01"


def test_format_without_steps_and_long_error_is_cut():
    a = alerts.format_run_failure("r", "j", [], "x" * 5000)
    assert "failed steps: (none reported)" in a.text
    assert len(a.error) == alerts.MAX_ERROR_CHARS and a.error.endswith("…")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/…"),
        ("https://oapi.dingtalk.com/robot/send?access_token=SECRET", "https://oapi.dingtalk.com/…"),
        ("http://user:pw@10.0.0.1:8080/", "http://10.0.0.1:8080"),
        ("not a url", "<redacted>"),
    ],
)
def test_redact_url(url, shown):
    assert alerts.redact_url(url) == shown


def test_redact_text_hides_passwords_and_queries():
    msg = "could not connect to mysql+pymysql://kol:hunter2@db:3306/mc?charset=utf8 and https://x.io/a?token=t0k"
    out = alerts.redact_text(msg)
    assert "hunter2" not in out and "t0k" not in out and "charset" not in out
    assert "mysql+pymysql://kol:***@db:3306/mc?***" in out and "https://x.io/a?***" in out
    # the failure alert redacts its error
    a = alerts.format_run_failure("r", "j", ["s"], msg)
    assert "hunter2" not in a.text and "kol:***@db" in a.text


def test_post_json_delivers_to_local_server():
    with _Sink() as sink:
        a = alerts.format_run_failure("r-9", "ingest_job", ["notes"], "ValueError: 坏数据")
        ok, detail = alerts.post_json(sink.url, a.payload())
    assert ok is True
    assert detail == f"http://127.0.0.1:{sink.server.server_port}/…: HTTP 200"
    assert "SECRETPATH" not in detail and "abc123" not in detail
    assert sink.bodies == [a.payload()]
    assert sink.bodies[0]["error"] == "ValueError: 坏数据"
    assert sink.headers[0]["Content-Type"].startswith("application/json")


def test_post_json_reports_http_error_without_raising():
    with _Sink(status=500) as sink:
        ok, detail = alerts.post_json(sink.url, {"text": "t"})
    assert ok is False and detail.endswith("HTTP 500") and "abc123" not in detail


def test_post_json_unreachable_does_not_raise():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    ok, detail = alerts.post_json(f"http://127.0.0.1:{port}/x?token=secret", {"text": "t"}, timeout=2)
    assert ok is False and "secret" not in detail and detail.startswith(f"http://127.0.0.1:{port}/…: ")
    ok, detail = alerts.post_json("::::", {"text": "t"})
    assert ok is False
