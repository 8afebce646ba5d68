"""Alerts: format a failure message and POST it as JSON to a webhook (Slack/Feishu/DingTalk-style incoming hooks).

Pure (no Dagster). `post_json` never raises: an alert that cannot be delivered must not turn a failure report into
a second failure. URLs are redacted before they reach any log or message: user:password and query strings (where
webhook tokens usually live) are replaced, and only the scheme, host and port of a webhook URL are ever shown.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5.0
MAX_ERROR_CHARS = 2000

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)([^\s'\"<>]+)")


def redact_url(url: str) -> str:
    """`scheme://host[:port]/…` — no user info, path, query or fragment (a webhook's path or query is its secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    if not parts.scheme or not host:
        return "<redacted>"
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def redact_text(text: str) -> str:
    """Free text (an error message) with every URL's password and query string replaced by `***`."""

    def one(m: re.Match[str]) -> str:
        scheme, rest = m.group(1), m.group(2)
        if "@" in rest.split("/", 1)[0]:
            userinfo, hostpart = rest.split("@", 1)
            user = userinfo.split(":", 1)[0]
            rest = f"{user}:***@{hostpart}" if ":" in userinfo else f"***@{hostpart}"
        if "?" in rest:
            rest = rest.split("?", 1)[0] + "?***"
        return scheme + rest

    return _URL.sub(one, text)


@dataclass(frozen=True)
class Alert:
    title: str
    run_id: str
    job_name: str
    failed_steps: tuple[str, ...]
    error: str
    partition: str | None = None

    @property
    def text(self) -> str:
        lines = [self.title, f"job: {self.job_name}", f"run: {self.run_id}"]
        if self.partition:
            lines.append(f"partition: {self.partition}")
        lines.append("failed steps: " + (", ".join(self.failed_steps) if self.failed_steps else "(none reported)"))
        if self.error:
            lines.append("error: " + self.error)
        return "\n".join(lines)

    def payload(self) -> dict:
        """JSON body: `text` (what Slack-style hooks display) plus the fields for hooks that parse them."""
        return {
            "text": self.text,
            "title": self.title,
            "run_id": self.run_id,
            "job_name": self.job_name,
            "partition": self.partition,
            "failed_steps": list(self.failed_steps),
            "error": self.error,
        }


def format_run_failure(
    run_id: str,
    job_name: str,
    failed_steps: Sequence[str],
    error: str | None,
    partition: str | None = None,
) -> Alert:
    """An alert for a failed run; the error is redacted and cut to MAX_ERROR_CHARS, steps are sorted and unique."""
    msg = redact_text((error or "").strip())
    if len(msg) > MAX_ERROR_CHARS:
        msg = msg[: MAX_ERROR_CHARS - 1] + "…"
    return Alert(
        title=f"kol_pipeline: run of {job_name} failed",
        run_id=run_id,
        job_name=job_name,
        failed_steps=tuple(sorted(set(failed_steps))),
        error=msg,
        partition=partition,
    )


def post_json(url: str, payload: dict, timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    """POST `payload` as JSON. Returns (delivered, detail); never raises. `detail` names the URL redacted only."""
    shown = redact_url(url)
    try:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        req = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the operator's configured hook
            status = resp.status
        ok = 200 <= status < 300
        return ok, f"{shown}: HTTP {status}"
    except urllib.error.HTTPError as e:
        return False, f"{shown}: HTTP {e.code}"
    except Exception as e:  # noqa: BLE001 - an alert must never raise
        reason = getattr(e, "reason", None) or type(e).__name__
        return False, f"{shown}: {redact_text(str(reason))}"
